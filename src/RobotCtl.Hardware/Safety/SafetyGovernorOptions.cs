using RobotCtl.Core.Timing;

namespace RobotCtl.Hardware.Safety;

/// <summary>
/// How the <see cref="SafetyGovernor"/> reads time and how much it distrusts arm-state timestamps. The defaults suit
/// the serial and MQTT links of hardware/PROTOCOL.md; tests inject a synthetic <see cref="Clock"/>.
/// </summary>
public sealed record SafetyGovernorOptions
{
    public static SafetyGovernorOptions Default { get; } = new();

    /// <summary>
    /// The monotonic clock (<see cref="MonotonicClock"/> ticks) used by the overloads of
    /// <see cref="SafetyGovernor.Govern(in RobotCtl.Core.Arm.EeCommand, bool, in RobotCtl.Core.Arm.ArmState)"/> and
    /// <see cref="SafetyGovernor.Tick()"/> that take no time argument.
    /// </summary>
    public Func<long> Clock { get; init; } = static () => MonotonicClock.Now;

    /// <summary>
    /// How long after the governor lets a command through it may still be missing from a state stamped later: the
    /// caller's send after <c>Govern</c> returns, the transport, the arm's apply cycle and the state's way back. A
    /// command let through less than this before a state's timestamp counts as "maybe applied, maybe not": the
    /// workspace check bounds the arm's position over both. Too small is unsafe (the arm can overshoot the box by the
    /// commands it hides); too large only makes the arm slow down earlier near the box edge.
    /// </summary>
    public TimeSpan StateLatency { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// How far after the caller's "now" a state may be stamped and still count as fresh. Links stamp states on their
    /// own thread, so a state may be received between the caller reading the clock and reading the state; beyond
    /// this the timestamp is wrong and the state is refused.
    /// </summary>
    public TimeSpan FutureTolerance { get; init; } = TimeSpan.FromMilliseconds(50);

    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Clock, nameof(Clock));
        if (StateLatency < TimeSpan.Zero || StateLatency > TimeSpan.FromSeconds(10))
            throw new ArgumentException($"StateLatency: expected 0 .. 10 s, found {StateLatency}");
        if (FutureTolerance < TimeSpan.Zero || FutureTolerance > TimeSpan.FromSeconds(1))
            throw new ArgumentException($"FutureTolerance: expected 0 .. 1 s, found {FutureTolerance}");
    }
}
