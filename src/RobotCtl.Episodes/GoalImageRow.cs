namespace RobotCtl.Episodes;

// A row as the reader returns it (Ticks: MonotonicClock ticks at the Record call).

public sealed record GoalImageRow(int GoalIndex, long Ticks, long CaptureTicks, int Width, int Height, string Format, byte[] Data);
