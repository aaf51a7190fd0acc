namespace RobotCtl.Episodes;

// A row as the reader returns it (Ticks: MonotonicClock ticks at the Record call).

public sealed record FrameRow(long Step, long Ticks, long CaptureTicks, long Sequence, int Width, int Height, string Format, byte[] Data);
