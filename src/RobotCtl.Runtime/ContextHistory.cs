namespace RobotCtl.Runtime;

/// <summary>
/// The control loop's memory of what it saw and did, for a predictor that takes more than one frame (issue 16): the
/// last observed frames (latent, arm state, the step and chunk offset it was captured at) each tagged with the serial of
/// the last executed action it shows (<see cref="ActionChunkStream.SerialAt"/>), and, at plan time, the context built
/// from them: the current frame and the frames exactly one action block (block low-level actions) before it, before
/// that, ..., up to ContextFrames, oldest first, with the blocks actually executed between them read from the chunk
/// stream's execution log (what the governor let out, model frame, physical units). The chain stops at the first frame
/// that was not captured or whose block is not fully known, so the context is shorter at the start of a run, after a
/// restart and wherever a frame is missing; it never spans a gap. Preallocated; nothing is allocated per cycle.
/// One thread (the loop's).
/// </summary>
public sealed class ContextHistory
{
    private readonly int _frames, _latent, _stateDim, _block, _dim, _blockSize, _capacity;
    // Kept frames, a ring: newest at _head - 1.
    private readonly long[] _serial, _step;
    private readonly int[] _offset;
    private readonly float[] _latents, _states;
    private int _head, _count;
    // The last context built, oldest first.
    private readonly float[] _ctxLatents, _ctxActions, _ctxStates, _links;
    private readonly long[] _ctxSteps, _ctxSerials;
    private readonly int[] _ctxOffsets, _chain;
    private readonly long[] _plansByFrames;
    private int _built;

    /// <param name="contextFrames">Most frames a context holds (Planner:ContextFrames, >= 1).</param>
    /// <param name="capacity">Frames kept (at least contextFrames; more when a cycle captures several).</param>
    public ContextHistory(int contextFrames, int latentSize, int stateDim, int actionBlock, int actionDim, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(contextFrames);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(latentSize);
        ArgumentOutOfRangeException.ThrowIfNegative(stateDim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(actionBlock);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(actionDim);
        _frames = contextFrames;
        _latent = latentSize;
        _stateDim = stateDim;
        _block = actionBlock;
        _dim = actionDim;
        _blockSize = actionBlock * actionDim;
        _capacity = Math.Max(capacity, contextFrames);
        _serial = new long[_capacity];
        _step = new long[_capacity];
        _offset = new int[_capacity];
        _latents = new float[_capacity * latentSize];
        _states = new float[_capacity * stateDim];
        _ctxLatents = new float[contextFrames * latentSize];
        _ctxActions = new float[(contextFrames - 1) * _blockSize];
        _links = new float[(contextFrames - 1) * _blockSize];
        _ctxStates = new float[contextFrames * stateDim];
        _ctxSteps = new long[contextFrames];
        _ctxSerials = new long[contextFrames];
        _ctxOffsets = new int[contextFrames];
        _chain = new int[contextFrames];
        _plansByFrames = new long[contextFrames];
    }

    /// <summary>Most frames a context holds.</summary>
    public int MaxFrames => _frames;

    /// <summary>Frames kept since the last restart (at most the capacity).</summary>
    public int Kept => _count;

    /// <summary>Times the history was restarted (<see cref="Restart"/>), the run's start not counted.</summary>
    public long Restarts { get; private set; }

    /// <summary>Why the history was last restarted, or null.</summary>
    public string? LastRestartReason { get; private set; }

    /// <summary>How many plans had a context of 1, 2, ... <see cref="MaxFrames"/> frames (index = frames - 1).</summary>
    public ReadOnlySpan<long> PlansByFrames => _plansByFrames;

    /// <summary>Forgets every frame: the next context starts from the next frame kept. <paramref name="reason"/> should be a constant.</summary>
    public void Restart(string reason)
    {
        _count = 0;
        _head = 0;
        Restarts++;
        LastRestartReason = reason;
    }

    /// <summary>
    /// Keeps a frame: the serial of the last executed action it shows (-1: unknown, so it never links to another frame),
    /// the step and the chunk offset (executed actions of that step's chunk before it; 0 = the step's own frame) it was
    /// captured at, its latent and (state models) the arm state.
    /// </summary>
    public void Add(long serial, long step, int offset, ReadOnlySpan<float> latent, ReadOnlySpan<float> state)
    {
        if (latent.Length != _latent) throw new ArgumentException($"latent: expected {_latent} values, found {latent.Length}", nameof(latent));
        if (state.Length != _stateDim) throw new ArgumentException($"state: expected {_stateDim} values, found {state.Length}", nameof(state));
        var i = _head;
        _serial[i] = serial;
        _step[i] = step;
        _offset[i] = offset;
        latent.CopyTo(_latents.AsSpan(i * _latent, _latent));
        state.CopyTo(_states.AsSpan(i * _stateDim, _stateDim));
        _head = (_head + 1) % _capacity;
        if (_count < _capacity) _count++;
    }

    /// <summary>
    /// Builds the context of a plan from the newest frame kept (the current one) back: each earlier frame exactly one
    /// block of executed actions before the next, with that block read from <paramref name="log"/>; stops at the first
    /// frame missing or block not fully known, or at <see cref="MaxFrames"/>. Returns the frames in it (0 when nothing is
    /// kept). Then <see cref="Latents"/>, <see cref="PastActions"/>, <see cref="States"/> and the references hold it.
    /// </summary>
    public int Build(ActionChunkStream log)
    {
        ArgumentNullException.ThrowIfNull(log);
        _built = 0;
        if (_count == 0) return 0;
        var newest = (_head - 1 + _capacity) % _capacity;
        _chain[0] = newest;
        var f = 1;
        while (f < _frames)
        {
            var later = _serial[_chain[f - 1]];
            var wanted = later - _block;
            if (later < 0 || wanted < 0) break;
            var found = Find(wanted);
            if (found < 0) break;
            // The block that left the earlier frame: executed actions wanted+1 .. later.
            if (!log.TryCopyExecuted(wanted + 1, _block, _links.AsSpan((f - 1) * _blockSize, _blockSize))) break;
            _chain[f++] = found;
        }
        // Oldest first: frame j of the context is _chain[f-1-j]; the block between frames j and j+1 is link f-2-j.
        for (var j = 0; j < f; j++)
        {
            var i = _chain[f - 1 - j];
            _latents.AsSpan(i * _latent, _latent).CopyTo(_ctxLatents.AsSpan(j * _latent, _latent));
            _states.AsSpan(i * _stateDim, _stateDim).CopyTo(_ctxStates.AsSpan(j * _stateDim, _stateDim));
            _ctxSteps[j] = _step[i];
            _ctxSerials[j] = _serial[i];
            _ctxOffsets[j] = _offset[i];
            if (j < f - 1) _links.AsSpan((f - 2 - j) * _blockSize, _blockSize).CopyTo(_ctxActions.AsSpan(j * _blockSize, _blockSize));
        }
        _built = f;
        _plansByFrames[f - 1]++;
        return f;
    }

    /// <summary>The newest kept frame with <paramref name="serial"/>, or -1.</summary>
    private int Find(long serial)
    {
        for (var n = 1; n <= _count; n++)
        {
            var i = (_head - n + _capacity) % _capacity;
            if (_serial[i] == serial) return i;
        }
        return -1;
    }

    /// <summary>Frames in the last context built.</summary>
    public int Frames => _built;

    /// <summary>The last context's latents [F, latent], oldest first (the current frame last).</summary>
    public ReadOnlySpan<float> Latents => _ctxLatents.AsSpan(0, _built * _latent);

    /// <summary>The F-1 blocks executed between its frames [F-1, block, dim]: model action frame, physical units.</summary>
    public ReadOnlySpan<float> PastActions => _ctxActions.AsSpan(0, Math.Max(0, _built - 1) * _blockSize);

    /// <summary>One arm state per frame [F, S] (empty for models without states).</summary>
    public ReadOnlySpan<float> States => _ctxStates.AsSpan(0, _built * _stateDim);

    /// <summary>The step each context frame was captured in.</summary>
    public ReadOnlySpan<long> FrameSteps => _ctxSteps.AsSpan(0, _built);

    /// <summary>Each context frame's offset in its step's chunk (executed actions of that chunk before it; 0 = the step's own frame).</summary>
    public ReadOnlySpan<int> FrameOffsets => _ctxOffsets.AsSpan(0, _built);

    /// <summary>The serial of the last executed action each context frame shows.</summary>
    public ReadOnlySpan<long> FrameSerials => _ctxSerials.AsSpan(0, _built);

    /// <summary>Low-level actions per block, values per action.</summary>
    public int ActionBlock => _block;
    public int ActionDim => _dim;
}
