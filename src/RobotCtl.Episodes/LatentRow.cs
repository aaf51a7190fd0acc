namespace RobotCtl.Episodes;

// A row as the reader returns it (Ticks: MonotonicClock ticks at the Record call).

public sealed record LatentRow(long Step, long Ticks, LatentKind Kind, int[] Shape, float[] Values);
