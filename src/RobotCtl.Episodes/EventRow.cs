namespace RobotCtl.Episodes;

// A row as the reader returns it (Ticks: MonotonicClock ticks at the Record call).

public sealed record EventRow(long Step, long Ticks, EpisodeEventKind Kind, string Message, long Count);
