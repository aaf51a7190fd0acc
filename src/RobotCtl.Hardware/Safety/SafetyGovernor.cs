using System.Numerics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RobotCtl.Core.Arm;
using RobotCtl.Core.Timing;

namespace RobotCtl.Hardware.Safety;

/// <summary>
/// The one place every command passes before it reaches an arm (planner, teleop, replay alike). It enforces
/// <see cref="SafetyLimits"/>: NaN/Inf rejection, a latched e-stop, a rate limit, a stale-state check, per-axis step
/// limits and the workspace box (the delta is clamped so that the predicted pose stays inside; an arm already outside
/// may only move back towards the box), plus a command watchdog through <see cref="Tick"/>. Refusals become hold
/// (zero motion). Every clamp and refusal is counted per reason and logged. Times are <see cref="MonotonicClock"/>
/// ticks passed in by the caller, so tests drive it with synthetic time. Thread-safe; allocation-free per command.
/// </summary>
public sealed partial class SafetyGovernor
{
    private static readonly GovernorFlags[] AllFlags = Enum.GetValues<GovernorFlags>().Where(f => f != GovernorFlags.None).ToArray();

    private readonly float[] _maxStep;
    private readonly double[] _min, _max;
    private readonly long _minIntervalTicks, _watchdogTicks, _maxStateAgeTicks;
    private readonly long[] _counts = new long[AllFlags.Length];
    private readonly ILogger _logger;
    private readonly Lock _gate = new();

    private long _lastTransmitTicks, _lastCommandTicks;
    private bool _anyTransmitted, _anyCommand, _watchdogFired;
    private GovernorFlags _lastRefusal;
    private bool _estopped;
    private string _estopReason = "";
    private long _governed, _transmitted;

    public SafetyGovernor(SafetyLimits limits, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        Limits = limits;
        _maxStep = (float[])limits.MaxStep.Clone();
        _min = (double[])limits.WorkspaceMin.Clone();
        _max = (double[])limits.WorkspaceMax.Clone();
        _minIntervalTicks = MonotonicClock.FromTimeSpan(TimeSpan.FromSeconds(1.0 / limits.MaxRateHz));
        _watchdogTicks = MonotonicClock.FromTimeSpan(limits.CommandWatchdog);
        _maxStateAgeTicks = MonotonicClock.FromTimeSpan(limits.MaxStateAge);
        _logger = logger ?? NullLogger.Instance;
    }

    public SafetyLimits Limits { get; }

    public bool IsEStopped { get { lock (_gate) return _estopped; } }

    /// <summary>Commands passed to <see cref="Govern"/>.</summary>
    public long Governed { get { lock (_gate) return _governed; } }

    /// <summary>Decisions with <see cref="GovernedCommand.Transmit"/> set (from <see cref="Govern"/> and <see cref="Tick"/>).</summary>
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
        }
        LogRearm(_logger, who);
    }

    /// <summary>
    /// Governs one fresh command. <paramref name="hasState"/>/<paramref name="state"/> are the arm's latest state
    /// (its <see cref="ArmState.TimestampTicks"/> is checked against <see cref="SafetyLimits.MaxStateAge"/>);
    /// <paramref name="nowTicks"/> is <see cref="MonotonicClock.Now"/>.
    /// </summary>
    public GovernedCommand Govern(in EeCommand proposed, bool hasState, in ArmState state, long nowTicks)
    {
        GovernedCommand result;
        bool newRefusal;
        lock (_gate)
        {
            _governed++;
            _anyCommand = true;
            _lastCommandTicks = nowTicks;
            _watchdogFired = false;
            result = Decide(proposed, hasState, state, nowTicks);
            Account(result, nowTicks);
            var refusal = result.Flags & GovernedCommand.RefusalFlags & ~GovernorFlags.RateLimited;
            newRefusal = refusal != GovernorFlags.None && refusal != _lastRefusal;
            _lastRefusal = refusal;
        }
        if (newRefusal) LogRefusedWarning(_logger, result.Reason, proposed);
        if (result.Flags != GovernorFlags.None) LogDecision(_logger, result.Flags, result.Reason, proposed, result.Command);
        return result;
    }

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
        if (_estopped) return Refuse(GovernorFlags.EStopLatched, Reasons.EStop, nowTicks);
        if (!RateAllows(nowTicks)) return new GovernedCommand(EeCommand.Hold, false, GovernorFlags.RateLimited, Reasons.Rate);
        if (!proposed.IsFinite) return Refuse(GovernorFlags.NonFinite, Reasons.NonFinite, nowTicks);
        if (!hasState || !state.IsFinite || nowTicks - state.TimestampTicks > _maxStateAgeTicks)
            return Refuse(GovernorFlags.StaleState, Reasons.Stale, nowTicks);

        Span<float> d = stackalloc float[EeCommand.Dim];
        proposed.CopyTo(d);
        var flags = GovernorFlags.None;
        for (var i = 0; i < EeCommand.Dim; i++)
        {
            var c = Math.Clamp(d[i], -_maxStep[i], _maxStep[i]);
            if (c != d[i]) { flags |= GovernorFlags.StepClamped; d[i] = c; }
        }
        Span<double> pose = [state.X, state.Y, state.Z];
        for (var i = 0; i < 3; i++)
            if (ClampIntoRange(ref d[i], pose[i], _min[i], _max[i])) flags |= GovernorFlags.WorkspaceClamped;
        if (ClampIntoRange(ref d[6], state.Gripper, 0, 1)) flags |= GovernorFlags.GripperClamped;

        var reason = (flags & GovernorFlags.StepClamped) != 0 ? Reasons.Step
            : (flags & GovernorFlags.WorkspaceClamped) != 0 ? Reasons.Workspace
            : (flags & GovernorFlags.GripperClamped) != 0 ? Reasons.Gripper
            : Reasons.Ok;
        return new GovernedCommand(EeCommand.FromSpan(d), true, flags, reason);
    }

    /// <summary>
    /// Clamps <paramref name="delta"/> so that position + delta stays in [lo, hi], widened to include the current
    /// position (an arm outside may move back, never further out). Exact in double arithmetic despite float deltas.
    /// </summary>
    private static bool ClampIntoRange(ref float delta, double position, double lo, double hi)
    {
        var a = Math.Min(lo, position);
        var b = Math.Max(hi, position);
        var target = position + delta;
        if (target >= a && target <= b) return false;
        var clamped = (float)(Math.Clamp(target, a, b) - position);
        while (position + clamped > b) clamped = MathF.BitDecrement(clamped);
        while (position + clamped < a) clamped = MathF.BitIncrement(clamped);
        delta = clamped;
        return true;
    }

    private GovernedCommand Refuse(GovernorFlags flag, string reason, long nowTicks) =>
        new(EeCommand.Hold, RateAllows(nowTicks), flag, reason);

    private bool RateAllows(long nowTicks) => !_anyTransmitted || nowTicks - _lastTransmitTicks >= _minIntervalTicks;

    private void Account(in GovernedCommand result, long nowTicks)
    {
        for (var bits = (uint)result.Flags; bits != 0; bits &= bits - 1)
            _counts[BitOperations.TrailingZeroCount(bits)]++;
        if (result.Transmit) { _lastTransmitTicks = nowTicks; _anyTransmitted = true; _transmitted++; }
    }

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
        public const string Stale = "arm state missing or older than MaxStateAge";
        public const string Watchdog = "no fresh command within CommandWatchdog";
        public const string Step = "per-step limit";
        public const string Workspace = "workspace bounds";
        public const string Gripper = "gripper range";
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Safety governor: refusing commands, holding ({Reason}); first refused command {Command}")]
    private static partial void LogRefusedWarning(ILogger logger, string reason, EeCommand command);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Safety governor: {Flags} ({Reason}): {Proposed} -> {Sent}")]
    private static partial void LogDecision(ILogger logger, GovernorFlags flags, string reason, EeCommand proposed, EeCommand sent);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Safety governor: command watchdog fired after {WatchdogMs} ms without a command: holding")]
    private static partial void LogWatchdog(ILogger logger, double watchdogMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Safety governor: E-STOP latched ({Reason}); only an explicit re-arm clears it")]
    private static partial void LogEStop(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Safety governor: re-armed by {Who}")]
    private static partial void LogRearm(ILogger logger, string who);
}
