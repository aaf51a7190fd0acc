using RobotCtl.Core.Arm;

namespace RobotCtl.Episodes;

// A row as the reader returns it (Ticks: MonotonicClock ticks at the Record call).

/// <summary>A command as sent after the safety governor. Bit i of <see cref="ClampedAxes"/> is set when axis i was clamped.</summary>
public sealed record CommandRow(long Step, long Ticks, EeCommand Requested, EeCommand Sent, int ClampedAxes, string? Reason)
{
    public bool WasClamped => ClampedAxes != 0;
}
