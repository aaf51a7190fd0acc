namespace RobotCtl.Runtime;

/// <summary>
/// The hand-over between the planner and the command streamer: the current plan's low-level actions
/// (model action frame, physical units), which of them have been taken, and until when the plan may be trusted.
/// The planner publishes whole chunks; the streamer takes one action per tick. When the chunk runs out or its
/// deadline passes, <see cref="TryTake"/> returns false and the streamer sends hold — never the stale tail.
/// Preallocated: publishing copies into a buffer owned here, so nothing is allocated per plan.
/// </summary>
public sealed class ActionChunkStream
{
    private readonly object _gate = new();
    private readonly float[] _actions;
    private readonly int _dim;
    private int _count;
    private int _next;
    private long _validUntilTicks;
    private long _planId;
    private long _sourceTicks;
    private readonly SemaphoreSlim _drained = new(0, 1);

    public ActionChunkStream(int maxActions, int actionDim)
    {
        _actions = new float[maxActions * actionDim];
        _dim = actionDim;
    }

    public int ActionDim => _dim;

    /// <summary>
    /// Replaces the current chunk; the first <paramref name="count"/> actions of <paramref name="actions"/> are taken in
    /// order. <paramref name="sourceTicks"/> is the capture time of the frame the plan was made from (frame-to-command latency).
    /// </summary>
    public void Publish(ReadOnlySpan<float> actions, int count, long validUntilTicks, long planId, long sourceTicks = 0)
    {
        if (count * _dim > _actions.Length) throw new ArgumentException($"chunk of {count} actions exceeds capacity {_actions.Length / _dim}");
        lock (_gate)
        {
            actions[..(count * _dim)].CopyTo(_actions);
            _count = count;
            _next = 0;
            _validUntilTicks = validUntilTicks;
            _planId = planId;
            _sourceTicks = sourceTicks;
        }
    }

    /// <summary>Drops the current chunk: the streamer holds from its next tick.</summary>
    public void Clear()
    {
        lock (_gate) { _count = 0; _next = 0; }
    }

    /// <summary>Takes the next action if the chunk has one and is still valid at <paramref name="nowTicks"/>.</summary>
    public bool TryTake(long nowTicks, Span<float> action, out ChunkPosition position)
    {
        lock (_gate)
        {
            position = new ChunkPosition(_planId, _next, _sourceTicks);
            if (_next >= _count) return false;
            if (nowTicks > _validUntilTicks)
            {
                // Expired: the remaining tail is stale and is never sent.
                _count = 0;
                _next = 0;
                Signal();
                return false;
            }
            _actions.AsSpan(_next * _dim, _dim).CopyTo(action);
            _next++;
            if (_next == _count) Signal();
            return true;
        }
    }

    /// <summary>Actions of the current chunk not yet taken.</summary>
    public int Remaining { get { lock (_gate) return _count - _next; } }

    /// <summary>Waits until the current chunk is used up or expires (blocking replanning).</summary>
    public bool WaitDrained(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (Remaining == 0) return true;
        return _drained.Wait(timeout, cancellationToken) || Remaining == 0;
    }

    private void Signal()
    {
        if (_drained.CurrentCount == 0) _drained.Release();
    }

    /// <summary>Resets the drained signal before a new chunk is published.</summary>
    public void ResetDrained()
    {
        while (_drained.CurrentCount > 0) _drained.Wait(0);
    }
}

/// <summary>Where a taken action came from: its plan, its index in the chunk, and the capture time of the plan's frame.</summary>
public readonly record struct ChunkPosition(long PlanId, int Index, long SourceTicks);
