namespace RobotCtl.Episodes;

// A row as the reader returns it (Ticks: MonotonicClock ticks at the Record call).

public sealed record SimStateRow(long Step, long Ticks, SimStateSample State);
