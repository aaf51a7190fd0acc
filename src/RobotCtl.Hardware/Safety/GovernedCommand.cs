using RobotCtl.Core.Arm;

namespace RobotCtl.Hardware.Safety;

/// <summary>
/// What the governor decided: the command to transmit (hold when refused), whether to transmit at all (false only
/// when rate limited or when there is nothing new to send), the flags raised and the main reason in words.
/// </summary>
public readonly record struct GovernedCommand(EeCommand Command, bool Transmit, GovernorFlags Flags, string Reason)
{
    public const GovernorFlags RefusalFlags =
        GovernorFlags.EStopLatched | GovernorFlags.NonFinite | GovernorFlags.RateLimited | GovernorFlags.StaleState | GovernorFlags.WatchdogExpired;

    public bool WasRefused => (Flags & RefusalFlags) != 0;
    public bool WasClamped => (Flags & (GovernorFlags.StepClamped | GovernorFlags.WorkspaceClamped | GovernorFlags.GripperClamped)) != 0;
    public bool Has(GovernorFlags flag) => (Flags & flag) != 0;
}
