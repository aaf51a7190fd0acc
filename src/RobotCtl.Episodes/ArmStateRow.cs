using RobotCtl.Core.Arm;

namespace RobotCtl.Episodes;

// A row as the reader returns it (Ticks: MonotonicClock ticks at the Record call).

public sealed record ArmStateRow(long Step, long Ticks, ArmState State);
