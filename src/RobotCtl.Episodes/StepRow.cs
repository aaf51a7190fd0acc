namespace RobotCtl.Episodes;

// A row as the reader returns it (Ticks: MonotonicClock ticks at the Record call).

/// <summary>One completed step: its timings row.</summary>
public sealed record StepRow(long Step, long Ticks, StepTimings Timings);
