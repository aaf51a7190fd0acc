namespace RobotCtl.Runtime;

/// <summary>
/// The hand-over between the planner and the command streamer: the current plan's low-level actions
/// (model action frame, physical units), which of them have been taken, and until when the plan may be trusted.
/// The planner publishes whole chunks; the streamer takes one action per tick. When the chunk runs out or its
/// deadline passes, <see cref="TryTake"/> returns false and the streamer sends hold — never the stale tail.
/// <para>
/// It also keeps the <b>execution log</b> the loop's context history is built from: every action ever taken gets the
/// next serial number (1, 2, ...; serial 0 is "before the first action"), and the streamer reports back what the
/// governor actually let out for it (<see cref="Complete"/>: model frame, physical units; a hold, refusal or undelivered
/// command is zeros) and when. A chunk that expires in the middle of a model action block is padded with zero
/// (held) actions to the end of that block: the arm held through those ticks. A chunk may be published with a pause at
/// every block boundary (<see cref="Publish"/>'s <c>pauseEvery</c>): the streamer holds there until
/// <see cref="Release"/>, so the loop can photograph the scene exactly at the boundary (blocking replanning with
/// context history); the time held does not count against the chunk's validity.
/// </para>
/// Preallocated: publishing copies into a buffer owned here, so nothing is allocated per plan or per action.
/// </summary>
public sealed class ActionChunkStream
{
    private readonly object _gate = new();
    private readonly float[] _actions;
    private readonly int _dim, _block;
    private int _count;
    private int _next;
    private long _validUntilTicks;
    private long _planId;
    private long _sourceTicks;
    private readonly SemaphoreSlim _drained = new(0, 1);

    // Pauses at block boundaries: actions with index < _released may be taken.
    private int _pauseEvery, _released;
    private long _gateReachedTicks;
    private long _generation, _firstSerial, _pauses;

    // The execution log: a ring of the last _log.Length actions taken, by serial.
    private readonly long[] _logTake, _logDone;
    private readonly float[] _logValues;
    private readonly byte[] _logState; // LogPending, LogDone, LogUnknown
    private long _taken, _completed;
    private const byte LogPending = 0, LogDone = 1, LogUnknown = 2;

    /// <param name="maxActions">The longest chunk (horizon x block).</param>
    /// <param name="actionDim">Values per low-level action.</param>
    /// <param name="actionBlock">Low-level actions per model action block (expiry pads to the end of a block).</param>
    /// <param name="logCapacity">Actions the execution log keeps (0: 256, or 4 chunks if longer).</param>
    public ActionChunkStream(int maxActions, int actionDim, int actionBlock = 1, int logCapacity = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxActions);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(actionDim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(actionBlock);
        _actions = new float[maxActions * actionDim];
        _dim = actionDim;
        _block = actionBlock;
        var capacity = logCapacity > 0 ? logCapacity : Math.Max(256, 4 * maxActions);
        _logTake = new long[capacity];
        _logDone = new long[capacity];
        _logValues = new float[capacity * actionDim];
        _logState = new byte[capacity];
    }

    public int ActionDim => _dim;

    /// <summary>Low-level actions per model action block.</summary>
    public int ActionBlock => _block;

    /// <summary>How many actions the execution log keeps.</summary>
    public int LogCapacity => _logTake.Length;

    /// <summary>
    /// Replaces the current chunk; the first <paramref name="count"/> actions of <paramref name="actions"/> are taken in
    /// order. <paramref name="sourceTicks"/> is the capture time of the frame the plan was made from (frame-to-command latency).
    /// <paramref name="pauseEvery"/> &gt; 0: the streamer holds after every <paramref name="pauseEvery"/> actions until
    /// <see cref="Release"/>. Returns the chunk's generation and the serial its first action will get.
    /// </summary>
    public PublishedChunk Publish(ReadOnlySpan<float> actions, int count, long validUntilTicks, long planId, long sourceTicks = 0, int pauseEvery = 0)
    {
        if (count * _dim > _actions.Length) throw new ArgumentException($"chunk of {count} actions exceeds capacity {_actions.Length / _dim}");
        ArgumentOutOfRangeException.ThrowIfNegative(pauseEvery);
        lock (_gate)
        {
            actions[..(count * _dim)].CopyTo(_actions);
            _count = count;
            _next = 0;
            _validUntilTicks = validUntilTicks;
            _planId = planId;
            _sourceTicks = sourceTicks;
            _pauseEvery = pauseEvery;
            _released = pauseEvery > 0 ? Math.Min(pauseEvery, count) : count;
            _generation++;
            _firstSerial = _taken + 1;
            return new PublishedChunk(_generation, _firstSerial);
        }
    }

    /// <summary>Drops the current chunk: the streamer holds from its next tick.</summary>
    public void Clear()
    {
        lock (_gate) { _count = 0; _next = 0; _released = 0; _generation++; }
    }

    /// <summary>Changes whenever a chunk is published or cleared: the loop tells its chunk from a later one by it.</summary>
    public long Generation { get { lock (_gate) return _generation; } }

    /// <summary>The serial of the current (last published) chunk's first action.</summary>
    public long ChunkFirstSerial { get { lock (_gate) return _firstSerial; } }

    /// <summary>Takes the next action if the chunk has one, is not paused at a block boundary and is still valid at <paramref name="nowTicks"/>.</summary>
    public bool TryTake(long nowTicks, Span<float> action, out ChunkPosition position)
    {
        lock (_gate)
        {
            position = new ChunkPosition(_planId, _next, _sourceTicks);
            if (_next >= _count) return false;
            // Paused at a block boundary: hold, without the pause counting against the chunk's validity.
            if (_next >= _released) return false;
            if (nowTicks > _validUntilTicks)
            {
                // Expired: the remaining tail is stale and is never sent. The arm holds through the rest of the
                // block it was in: the log records those ticks as zero actions, so blocks stay whole.
                var partial = _next % _block;
                if (partial != 0)
                {
                    var now = Core.Timing.MonotonicClock.Now;
                    for (var i = partial; i < _block; i++) Log(now, now, default, LogDone);
                }
                _count = 0;
                _next = 0;
                Signal();
                return false;
            }
            _actions.AsSpan(_next * _dim, _dim).CopyTo(action);
            // Stamped with the real clock under the lock, so it orders exactly with Release and with a frame's capture
            // (the caller's nowTicks may have been read before a Release that let this action go).
            var serial = Log(Core.Timing.MonotonicClock.Now, 0, default, LogPending);
            position = new ChunkPosition(_planId, _next, _sourceTicks, serial);
            _next++;
            if (_next == _released && _next < _count)
            {
                _gateReachedTicks = nowTicks;
                _pauses++;
            }
            if (_next == _count) Signal();
            return true;
        }
    }

    /// <summary>
    /// The streamer's report of what went out for the action with <paramref name="serial"/>: <paramref name="executed"/>
    /// is what the governor let out, in the model's action frame (zeros for a hold), <paramref name="doneTicks"/> when it
    /// had been sent. <paramref name="known"/> false: the tick failed and what reached the arm is not known (a context
    /// history never reaches across such an action).
    /// </summary>
    public void Complete(long serial, ReadOnlySpan<float> executed, long doneTicks, bool known = true)
    {
        lock (_gate)
        {
            if (serial < 1 || serial > _taken || serial <= _taken - _logTake.Length) return;
            var i = (int)((serial - 1) % _logTake.Length);
            if (known) executed[.._dim].CopyTo(_logValues.AsSpan(i * _dim, _dim));
            _logDone[i] = doneTicks;
            _logState[i] = known ? LogDone : LogUnknown;
            if (serial > _completed) _completed = serial;
        }
    }

    /// <summary>Actions taken so far (the serial of the last one).</summary>
    public long Taken { get { lock (_gate) return _taken; } }

    /// <summary>The serial of the last action the streamer has reported on (<see cref="Complete"/>).</summary>
    public long Completed { get { lock (_gate) return _completed; } }

    /// <summary>Times the streamer reached a block boundary it had to wait at (<see cref="Publish"/>'s pauseEvery).</summary>
    public long Pauses { get { lock (_gate) return _pauses; } }

    /// <summary>Whether the streamer is waiting at a block boundary of the current chunk (generation <paramref name="generation"/>).</summary>
    public bool IsPaused(long generation)
    {
        lock (_gate) return generation == _generation && _next < _count && _next >= _released;
    }

    /// <summary>
    /// Lets the streamer go on past the block boundary it is paused at (or will reach next), if the chunk is still the
    /// one of <paramref name="generation"/> (<paramref name="all"/>: past every later boundary too). The time it waited
    /// there is added to the chunk's validity.
    /// </summary>
    public void Release(long generation, long nowTicks, bool all = false)
    {
        lock (_gate)
        {
            if (generation != _generation || _pauseEvery == 0 || _released >= _count) return;
            if (_next >= _released && nowTicks > _gateReachedTicks && _validUntilTicks < long.MaxValue / 2)
                _validUntilTicks += nowTicks - _gateReachedTicks;
            _released = all ? _count : Math.Min(_released + _pauseEvery, _count);
        }
    }

    /// <summary>When the action with <paramref name="serial"/> was taken and when it had been sent; false if it is not (or no longer) in the log or not yet reported.</summary>
    public bool TryGetTimes(long serial, out long takeTicks, out long doneTicks)
    {
        lock (_gate)
        {
            takeTicks = doneTicks = 0;
            if (!InLog(serial)) return false;
            var i = (int)((serial - 1) % _logTake.Length);
            if (_logState[i] == LogPending) return false;
            takeTicks = _logTake[i];
            doneTicks = _logDone[i];
            return true;
        }
    }

    /// <summary>
    /// Copies the executed actions with serials <paramref name="firstSerial"/> .. firstSerial + count - 1 into
    /// <paramref name="into"/> (count x ActionDim values). False when any of them is not in the log, not yet reported, or
    /// of unknown outcome.
    /// </summary>
    public bool TryCopyExecuted(long firstSerial, int count, Span<float> into)
    {
        lock (_gate)
        {
            for (var k = 0; k < count; k++)
            {
                var serial = firstSerial + k;
                if (!InLog(serial)) return false;
                var i = (int)((serial - 1) % _logTake.Length);
                if (_logState[i] != LogDone) return false;
                _logValues.AsSpan(i * _dim, _dim).CopyTo(into.Slice(k * _dim, _dim));
            }
            return true;
        }
    }

    /// <summary>
    /// How many actions a frame captured at <paramref name="captureTicks"/> shows executed: the serial of the last action
    /// sent at or before then (0: none yet). -1 when that cannot be told: an action was taken but not yet sent at that
    /// moment, or the capture predates what the log keeps.
    /// </summary>
    public long SerialAt(long captureTicks)
    {
        lock (_gate)
        {
            var oldest = Math.Max(1, _taken - _logTake.Length + 1);
            for (var serial = _taken; serial >= oldest; serial--)
            {
                var i = (int)((serial - 1) % _logTake.Length);
                if (_logTake[i] > captureTicks) continue; // taken after the capture: not in the frame
                // Taken at or before the capture: in the frame only if it had been sent by then.
                return _logState[i] != LogPending && _logDone[i] <= captureTicks ? serial : -1;
            }
            return oldest == 1 ? 0 : -1;
        }
    }

    private bool InLog(long serial) => serial >= 1 && serial <= _taken && serial > _taken - _logTake.Length;

    private long Log(long takeTicks, long doneTicks, ReadOnlySpan<float> values, byte state)
    {
        var serial = ++_taken;
        var i = (int)((serial - 1) % _logTake.Length);
        _logTake[i] = takeTicks;
        _logDone[i] = doneTicks;
        _logState[i] = state;
        var slot = _logValues.AsSpan(i * _dim, _dim);
        if (values.IsEmpty) slot.Clear();
        else values.CopyTo(slot);
        if (state != LogPending && serial > _completed) _completed = serial;
        return serial;
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
