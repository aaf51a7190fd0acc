using System.Numerics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RobotCtl.Core.Arm;
using RobotCtl.Core.Timing;

namespace RobotCtl.Hardware.Safety;

/// <summary>
/// The one place every command passes before it reaches an arm (planner, teleop, replay alike). It enforces
/// <see cref="SafetyLimits"/>: NaN/Inf rejection, a latched e-stop, a rate limit, a state freshness check (missing,
/// older than MaxStateAge, stamped in the future or with an impossible timestamp: hold), per-axis step limits and the
/// workspace box, plus a command watchdog through <see cref="Tick(long)"/>. Refusals become hold (zero motion).
/// <para>
/// The workspace check accounts for commands in flight: the latest state does not yet show the commands let through
/// shortly before or after it was stamped, so the governor keeps every command it let through (a fixed ring, sized
/// from MaxRateHz x (MaxStateAge + StateLatency)) and bounds the arm's position per axis by the state plus every
/// subset of the commands let through since (state timestamp - <see cref="SafetyGovernorOptions.StateLatency"/>):
/// the upper bound adds their positive parts, the lower bound their negative parts. The timestamp is taken as no later
/// than when the governor first saw that state (a state cannot show a command let through after it was presented),
/// and the state's age counts from there too. A new delta is clamped so that
/// both bounds stay in the box (an arm already outside may only move back). Subsets rather than the plain sum,
/// because a command let through may never be applied (the link refused it, the arm dropped it as stale); counting
/// it as done would let the next command overshoot. Commands older than that window are taken as shown by the state.
/// When the ring is full (only with a clock that is not monotonic or absurd limits) movement is refused.
/// </para>
/// Every clamp and refusal is counted per reason and logged. Times are <see cref="MonotonicClock"/> ticks, passed in
/// by the caller or read from <see cref="SafetyGovernorOptions.Clock"/>, so tests drive it with synthetic time.
/// Thread-safe; allocation-free per command.
/// </summary>
public sealed partial class SafetyGovernor
{
    private static readonly GovernorFlags[] AllFlags = Enum.GetValues<GovernorFlags>().Where(f => f != GovernorFlags.None).ToArray();

    /// <summary>Upper bound of the in-flight ring whatever the limits say (1000 Hz x 16 s); beyond it: hold.</summary>
    internal const int MaxInFlightCapacity = 1 << 14;

    // The bounded axes, in ring order: x, y, z (workspace box) and gripper closedness ([0, 1]).
    private const int Bounded = 4;
    private static readonly int[] BoundedAxes = [0, 1, 2, 6]; // a field: the span-property form allocated per access here

    private readonly float[] _maxStep;
    private readonly double[] _lo = new double[Bounded], _hi = new double[Bounded];
    private readonly long _minIntervalTicks, _watchdogTicks, _maxStateAgeTicks, _latencyTicks, _futureToleranceTicks, _horizonTicks;
    private readonly Func<long> _clock;
    private readonly long[] _counts = new long[AllFlags.Length];
    private readonly ILogger _logger;
    private readonly Lock _gate = new();

    // In-flight ring: let-through commands that moved a bounded axis, oldest at _flightHead, ticks non-decreasing.
    private readonly long[] _flightTicks;
    private readonly float[] _flightDelta;
    private int _flightHead, _flightCount;

    private long _lastTransmitTicks, _lastCommandTicks;
    private bool _anyTransmitted, _anyCommand, _watchdogFired;
    // The state last presented and when the governor first saw it: a state cannot show a command let through after
    // it was first presented, whatever its timestamp says (a clock that jumps, a future stamp that has come due).
    private long _seenStateTicks, _seenAtTicks;
    private uint _seenStateSequence;
    private bool _anySeen;
    private GovernorFlags _lastRefusal;
    private string? _lastRefusalReason;
    private bool _estopped;
    private string _estopReason = "";
    private long _governed, _transmitted;

    public SafetyGovernor(SafetyLimits limits, ILogger? logger = null) : this(limits, SafetyGovernorOptions.Default, logger, 0) { }

    /// <summary>A governor whose time-less overloads read <paramref name="clock"/> (<see cref="MonotonicClock"/> ticks).</summary>
    public SafetyGovernor(SafetyLimits limits, Func<long> clock, ILogger? logger = null)
        : this(limits, new SafetyGovernorOptions { Clock = clock ?? throw new ArgumentNullException(nameof(clock)) }, logger, 0) { }

    public SafetyGovernor(SafetyLimits limits, SafetyGovernorOptions options, ILogger? logger = null) : this(limits, options, logger, 0) { }

    /// <param name="inFlightCapacity">Tests only: a smaller ring than the limits call for (0: sized from the limits).</param>
    internal SafetyGovernor(SafetyLimits limits, SafetyGovernorOptions options, ILogger? logger, int inFlightCapacity)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(options);
        limits.Validate();
        options.Validate();
        Limits = limits;
        Options = options;
        _clock = options.Clock;
        _maxStep = (float[])limits.MaxStep.Clone();
        for (var i = 0; i < 3; i++) { _lo[i] = limits.WorkspaceMin[i]; _hi[i] = limits.WorkspaceMax[i]; }
        _lo[3] = 0; _hi[3] = 1;
        _minIntervalTicks = Ticks(TimeSpan.FromSeconds(1.0 / limits.MaxRateHz));
        _watchdogTicks = Ticks(limits.CommandWatchdog);
        _maxStateAgeTicks = Ticks(limits.MaxStateAge);
        _latencyTicks = Ticks(options.StateLatency);
        _futureToleranceTicks = Ticks(options.FutureTolerance);
        _horizonTicks = Math.Min(_maxStateAgeTicks + _latencyTicks, long.MaxValue / 4);
        // Transmissions are at least _minIntervalTicks apart, so at most horizon / interval + 1 of them (plus the one
        // being added) can matter to any fresh state.
        var needed = _horizonTicks / Math.Max(_minIntervalTicks, 1) + 2;
        var capacity = (int)Math.Min(needed, MaxInFlightCapacity);
        if (inFlightCapacity > 0) capacity = Math.Min(capacity, inFlightCapacity);
        _flightTicks = new long[capacity];
        _flightDelta = new float[capacity * Bounded];
        _logger = logger ?? NullLogger.Instance;
    }

    public SafetyLimits Limits { get; }

    public SafetyGovernorOptions Options { get; }

    /// <summary>How many let-through commands the in-flight ring can hold.</summary>
    internal int InFlightCapacity => _flightTicks.Length;

    /// <summary>Now on the governor's clock (<see cref="SafetyGovernorOptions.Clock"/>).</summary>
    public long Now => _clock();

    public bool IsEStopped { get { lock (_gate) return _estopped; } }

    /// <summary>Commands passed to <see cref="Govern(in EeCommand, bool, in ArmState, long)"/>.</summary>
    public long Governed { get { lock (_gate) return _governed; } }

    /// <summary>Decisions with <see cref="GovernedCommand.Transmit"/> set (from Govern and Tick).</summary>
    public long Transmitted { get { lock (_gate) return _transmitted; } }

    /// <summary>How many times <paramref name="reason"/> (a single flag) was raised.</summary>
    public long CountOf(GovernorFlags reason)
    {
        var i = IndexOf(reason);
        lock (_gate) return _counts[i];
    }

    /// <summary>All per-reason counts (for status pages and reports; allocates).</summary>
    public IReadOnlyDictionary<GovernorFlags, long> Counts()
    {
        lock (_gate) return AllFlags.ToDictionary(f => f, f => _counts[IndexOf(f)]);
    }

    /// <summary>Latches the e-stop: from now on everything is hold until <see cref="Rearm"/>.</summary>
    public void EStop(string reason)
    {
        lock (_gate)
        {
            if (_estopped) return;
            _estopped = true;
            _estopReason = reason;
        }
        LogEStop(_logger, reason);
    }

    /// <summary>The only way out of a latched e-stop: an explicit, logged re-arm.</summary>
    public void Rearm(string who)
    {
        lock (_gate)
        {
            if (!_estopped) return;
            _estopped = false;
            _lastRefusal = GovernorFlags.None;
            _lastRefusalReason = null;
        }
        LogRearm(_logger, who);
    }

    /// <summary>Governs one fresh command at <see cref="Now"/> (the governor's clock).</summary>
    public GovernedCommand Govern(in EeCommand proposed, bool hasState, in ArmState state) => Govern(proposed, hasState, state, _clock());

    /// <summary>
    /// Governs one fresh command. <paramref name="hasState"/>/<paramref name="state"/> are the arm's latest state
    /// (its <see cref="ArmState.TimestampTicks"/> must be positive, at most MaxStateAge before
    /// <paramref name="nowTicks"/> and at most <see cref="SafetyGovernorOptions.FutureTolerance"/> after it);
    /// <paramref name="nowTicks"/> is <see cref="MonotonicClock.Now"/> (a value &lt;= 0 is refused).
    /// </summary>
    public GovernedCommand Govern(in EeCommand proposed, bool hasState, in ArmState state, long nowTicks)
    {
        GovernedCommand result;
        bool newRefusal;
        lock (_gate)
        {
            _governed++;
            if (nowTicks > 0)
            {
                // An untimed command must not feed the watchdog (a bogus time would silence it).
                _anyCommand = true;
                _lastCommandTicks = nowTicks;
                _watchdogFired = false;
            }
            result = Decide(proposed, hasState, state, nowTicks);
            Account(result, nowTicks);
            var refusal = result.Flags & GovernedCommand.RefusalFlags & ~GovernorFlags.RateLimited;
            newRefusal = refusal != GovernorFlags.None && (refusal != _lastRefusal || !ReferenceEquals(result.Reason, _lastRefusalReason));
            _lastRefusal = refusal;
            _lastRefusalReason = refusal == GovernorFlags.None ? null : result.Reason;
        }
        if (newRefusal) LogRefusedWarning(_logger, result.Reason, proposed);
        if (result.Flags != GovernorFlags.None) LogDecision(_logger, result.Flags, result.Reason, proposed, result.Command);
        return result;
    }

    /// <summary>A cycle without a fresh command at <see cref="Now"/>; see <see cref="Tick(long)"/>.</summary>
    public GovernedCommand Tick() => Tick(_clock());

    /// <summary>
    /// Called by the command streamer on a cycle without a fresh command. Nothing is transmitted while the last
    /// command is recent; once <see cref="SafetyLimits.CommandWatchdog"/> has passed without one, hold is
    /// transmitted (rate permitting) and <see cref="GovernorFlags.WatchdogExpired"/> is raised (counted and logged once
    /// per expiry).
    /// </summary>
    public GovernedCommand Tick(long nowTicks)
    {
        GovernedCommand result;
        bool firedNow = false;
        lock (_gate)
        {
            if (nowTicks <= 0) return new GovernedCommand(EeCommand.Hold, false, GovernorFlags.None, Reasons.BadClock);
            var expired = _anyCommand && nowTicks - _lastCommandTicks > _watchdogTicks;
            if (!expired) return new GovernedCommand(EeCommand.Hold, false, GovernorFlags.None, "no new command");
            if (!_watchdogFired) { _watchdogFired = true; firedNow = true; _counts[IndexOf(GovernorFlags.WatchdogExpired)]++; }
            var transmit = RateAllows(nowTicks);
            result = new GovernedCommand(EeCommand.Hold, transmit,
                GovernorFlags.WatchdogExpired | (transmit ? GovernorFlags.None : GovernorFlags.RateLimited), Reasons.Watchdog);
            if (transmit) { _lastTransmitTicks = nowTicks; _anyTransmitted = true; _transmitted++; }
        }
        if (firedNow) LogWatchdog(_logger, MonotonicClock.TicksToMs(_watchdogTicks));
        return result;
    }

    /// <summary>True once the watchdog has fired and no fresh command has arrived since.</summary>
    public bool WatchdogExpired { get { lock (_gate) return _watchdogFired; } }

    private GovernedCommand Decide(in EeCommand proposed, bool hasState, in ArmState state, long nowTicks)
    {
        // First: a bogus time must become neither the last transmit time nor a state's first sighting.
        if (nowTicks <= 0) return new GovernedCommand(EeCommand.Hold, false, GovernorFlags.StaleState, Reasons.BadClock);
        var seenAt = Observe(hasState, state, nowTicks);
        if (_estopped) return Refuse(GovernorFlags.EStopLatched, Reasons.EStop, nowTicks);
        if (!RateAllows(nowTicks)) return new GovernedCommand(EeCommand.Hold, false, GovernorFlags.RateLimited, Reasons.Rate);
        if (!proposed.IsFinite) return Refuse(GovernorFlags.NonFinite, Reasons.NonFinite, nowTicks);
        if (StateProblem(hasState, state, nowTicks, seenAt) is { } problem) return Refuse(GovernorFlags.StaleState, problem, nowTicks);

        Span<float> d = stackalloc float[EeCommand.Dim];
        proposed.CopyTo(d);
        var flags = GovernorFlags.None;
        for (var i = 0; i < EeCommand.Dim; i++)
        {
            var c = Math.Clamp(d[i], -_maxStep[i], _maxStep[i]);
            if (c != d[i]) { flags |= GovernorFlags.StepClamped; d[i] = c; }
        }

        // Bounds of where the arm may be once everything in flight has (or has not) been applied.
        Span<double> lower = stackalloc double[Bounded];
        Span<double> upper = stackalloc double[Bounded];
        lower[0] = upper[0] = state.X;
        lower[1] = upper[1] = state.Y;
        lower[2] = upper[2] = state.Z;
        lower[3] = upper[3] = state.Gripper;
        PruneInFlight(nowTicks);
        // From no earlier than now - MaxStateAge - StateLatency (the state is fresh), so nothing it needs was pruned.
        AddInFlight(Math.Min(state.TimestampTicks, seenAt) - _latencyTicks, lower, upper);
        var moves = false;
        for (var k = 0; k < Bounded; k++)
        {
            var axis = BoundedAxes[k];
            if (ClampIntoBox(ref d[axis], lower[k], upper[k], _lo[k], _hi[k]))
                flags |= k < 3 ? GovernorFlags.WorkspaceClamped : GovernorFlags.GripperClamped;
            moves |= d[axis] != 0;
        }
        // Cannot remember this command, so cannot account for it later: do not send it.
        if (moves && _flightCount == _flightTicks.Length) return Refuse(GovernorFlags.StaleState, Reasons.InFlightFull, nowTicks);

        var reason = (flags & GovernorFlags.StepClamped) != 0 ? Reasons.Step
            : (flags & GovernorFlags.WorkspaceClamped) != 0 ? Reasons.Workspace
            : (flags & GovernorFlags.GripperClamped) != 0 ? Reasons.Gripper
            : Reasons.Ok;
        return new GovernedCommand(EeCommand.FromSpan(d), true, flags, reason);
    }

    /// <summary>When the governor first saw this state (by timestamp and sequence); now for a new one.</summary>
    private long Observe(bool hasState, in ArmState state, long nowTicks)
    {
        if (!hasState) return nowTicks;
        if (!_anySeen || state.TimestampTicks != _seenStateTicks || state.Sequence != _seenStateSequence)
        {
            _anySeen = true;
            _seenStateTicks = state.TimestampTicks;
            _seenStateSequence = state.Sequence;
            _seenAtTicks = nowTicks;
        }
        return Math.Min(_seenAtTicks, nowTicks);
    }

    /// <summary>
    /// Why the state cannot vouch for a command, or null when it can. Its age counts from the earlier of its stamp and
    /// its first sighting, so a future stamp that has come due does not make an old state young. Overflow-free: all
    /// times compared are &gt; 0.
    /// </summary>
    private string? StateProblem(bool hasState, in ArmState state, long nowTicks, long seenAtTicks)
    {
        if (!hasState) return Reasons.NoState;
        if (!state.IsFinite) return Reasons.StateNotFinite;
        var ts = state.TimestampTicks;
        if (ts <= 0) return Reasons.StateTimeInvalid;
        if (ts - nowTicks > _futureToleranceTicks) return Reasons.StateFuture;
        if (nowTicks - Math.Min(ts, seenAtTicks) > _maxStateAgeTicks) return Reasons.Stale;
        return null;
    }

    /// <summary>Drops commands no fresh state can predate by less than StateLatency.</summary>
    private void PruneInFlight(long nowTicks)
    {
        var cutoff = nowTicks - _horizonTicks;
        while (_flightCount > 0 && _flightTicks[_flightHead] < cutoff)
        {
            if (++_flightHead == _flightTicks.Length) _flightHead = 0;
            _flightCount--;
        }
    }

    /// <summary>Widens [lower, upper] by each command let through at or after <paramref name="fromTicks"/>: applied or not.</summary>
    private void AddInFlight(long fromTicks, Span<double> lower, Span<double> upper)
    {
        var cap = _flightTicks.Length;
        for (var n = _flightCount - 1; n >= 0; n--)
        {
            var i = _flightHead + n;
            if (i >= cap) i -= cap;
            if (_flightTicks[i] < fromTicks) break; // ticks are non-decreasing: everything older is in the state
            for (var k = 0; k < Bounded; k++)
            {
                var v = _flightDelta[i * Bounded + k];
                if (v > 0) upper[k] += v;
                else lower[k] += v;
            }
        }
    }

    private void RememberInFlight(in EeCommand command, long nowTicks)
    {
        if (command.Dx == 0 && command.Dy == 0 && command.Dz == 0 && command.Gripper == 0) return;
        var cap = _flightTicks.Length;
        if (_flightCount == cap) return; // unreachable: Decide refuses movement when full
        var i = _flightHead + _flightCount;
        if (i >= cap) i -= cap;
        _flightTicks[i] = nowTicks;
        _flightDelta[i * Bounded] = command.Dx;
        _flightDelta[i * Bounded + 1] = command.Dy;
        _flightDelta[i * Bounded + 2] = command.Dz;
        _flightDelta[i * Bounded + 3] = command.Gripper;
        _flightCount++;
    }

    /// <summary>
    /// Clamps <paramref name="delta"/> so that the arm, anywhere in [lower, upper], stays in [lo, hi], widened to
    /// include the bounds themselves (an arm outside may move back, never further out). Exact in double arithmetic
    /// despite float deltas.
    /// </summary>
    private static bool ClampIntoBox(ref float delta, double lower, double upper, double lo, double hi)
    {
        if (delta > 0)
        {
            var b = Math.Max(hi, upper);
            if (upper + delta <= b) return false;
            var clamped = (float)(b - upper);
            while (upper + clamped > b) clamped = MathF.BitDecrement(clamped);
            delta = clamped;
            return true;
        }
        if (delta < 0)
        {
            var a = Math.Min(lo, lower);
            if (lower + delta >= a) return false;
            var clamped = (float)(a - lower);
            while (lower + clamped < a) clamped = MathF.BitIncrement(clamped);
            delta = clamped;
            return true;
        }
        return false;
    }

    private GovernedCommand Refuse(GovernorFlags flag, string reason, long nowTicks) =>
        new(EeCommand.Hold, RateAllows(nowTicks), flag, reason);

    // Never at a time <= 0, so the last transmit time is always > 0 and the difference cannot overflow.
    private bool RateAllows(long nowTicks) => nowTicks > 0 && (!_anyTransmitted || nowTicks - _lastTransmitTicks >= _minIntervalTicks);

    private void Account(in GovernedCommand result, long nowTicks)
    {
        for (var bits = (uint)result.Flags; bits != 0; bits &= bits - 1)
            _counts[BitOperations.TrailingZeroCount(bits)]++;
        if (result.Transmit)
        {
            _lastTransmitTicks = nowTicks;
            _anyTransmitted = true;
            _transmitted++;
            RememberInFlight(result.Command, nowTicks);
        }
    }

    /// <summary>
    /// TimeSpan to clock ticks as <see cref="MonotonicClock.FromTimeSpan"/> rounds them (the streamer paces with the
    /// same conversion, so a rate equal to MaxRateHz is not refused), saturated so that sums of two cannot overflow.
    /// </summary>
    private static long Ticks(TimeSpan span) => Math.Clamp(MonotonicClock.FromTimeSpan(span), 0, long.MaxValue / 4);

    private static int IndexOf(GovernorFlags single)
    {
        if (single == GovernorFlags.None || !BitOperations.IsPow2((uint)single)) throw new ArgumentException($"expected a single GovernorFlags reason, found {single}", nameof(single));
        return BitOperations.TrailingZeroCount((uint)single);
    }

    /// <summary>The reason texts (static strings: no allocation per command).</summary>
    public static class Reasons
    {
        public const string Ok = "ok";
        public const string EStop = "e-stop latched";
        public const string Rate = "faster than the rate limit";
        public const string NonFinite = "NaN or infinite component";
        public const string NoState = "no arm state";
        public const string Stale = "arm state older than MaxStateAge";
        public const string StateNotFinite = "arm state has a NaN or infinite component";
        public const string StateTimeInvalid = "arm state timestamp is not a valid monotonic time (<= 0)";
        public const string StateFuture = "arm state stamped in the future (later than now + FutureTolerance)";
        public const string BadClock = "the current time is not a valid monotonic time (<= 0)";
        public const string InFlightFull = "too many commands in flight since the last state to account for";
        public const string Watchdog = "no fresh command within CommandWatchdog";
        public const string Step = "per-step limit";
        public const string Workspace = "workspace bounds";
        public const string Gripper = "gripper range";
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Safety governor: refusing commands, holding ({Reason}); first refused command {Command}")]
    private static partial void LogRefusedWarning(ILogger logger, string reason, EeCommand command);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Safety governor: {Flags} ({Reason}): {Proposed} -> {Sent}")]
    private static partial void LogDecision(ILogger logger, GovernorFlags flags, string reason, EeCommand proposed, EeCommand sent);

    // Debug: the streamer drives the watchdog, and in blocking replanning it fires on every plan longer than the watchdog
    // (expected; counted in the summary), which at Warning would be a line per cycle.
    [LoggerMessage(Level = LogLevel.Debug, Message = "Safety governor: command watchdog fired after {WatchdogMs} ms without a command: holding")]
    private static partial void LogWatchdog(ILogger logger, double watchdogMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Safety governor: E-STOP latched ({Reason}); only an explicit re-arm clears it")]
    private static partial void LogEStop(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Safety governor: re-armed by {Who}")]
    private static partial void LogRearm(ILogger logger, string who);
}
