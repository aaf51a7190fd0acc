using RobotCtl.Core.Arm;

namespace RobotCtl.Hardware.Safety;

/// <summary>Why the governor changed or refused a command. One bit per reason; each is counted separately.</summary>
[Flags]
public enum GovernorFlags
{
    None = 0,
    /// <summary>Refused: the e-stop is latched (only <see cref="SafetyGovernor.Rearm"/> clears it).</summary>
    EStopLatched = 1 << 0,
    /// <summary>Refused: a component was NaN or infinite.</summary>
    NonFinite = 1 << 1,
    /// <summary>Refused: faster than <see cref="SafetyLimits.MaxRateHz"/>; nothing is to be transmitted.</summary>
    RateLimited = 1 << 2,
    /// <summary>
    /// Refused: there is no arm state, or it is older than <see cref="SafetyLimits.MaxStateAge"/>, stamped in the
    /// future, stamped with ticks &lt;= 0, or not finite; or the current time is &lt;= 0; or too many commands are in
    /// flight to account for. <see cref="GovernedCommand.Reason"/> says which.
    /// </summary>
    StaleState = 1 << 3,
    /// <summary>Hold: no fresh command within <see cref="SafetyLimits.CommandWatchdog"/>.</summary>
    WatchdogExpired = 1 << 4,
    /// <summary>Clamped: an axis exceeded <see cref="SafetyLimits.MaxStep"/>.</summary>
    StepClamped = 1 << 5,
    /// <summary>Clamped: the predicted position (state plus the commands in flight) left the workspace box.</summary>
    WorkspaceClamped = 1 << 6,
    /// <summary>Clamped: the predicted gripper closedness left [0, 1].</summary>
    GripperClamped = 1 << 7,
}
