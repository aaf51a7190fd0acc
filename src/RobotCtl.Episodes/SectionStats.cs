namespace RobotCtl.Episodes;

/// <summary>p50/p90/p99/max of one timed section over an episode, in milliseconds.</summary>
public sealed record SectionStats(string Section, double P50Ms, double P90Ms, double P99Ms, double MaxMs);
