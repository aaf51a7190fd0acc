namespace RobotCtl.Episodes;

// A row as the reader returns it (Ticks: MonotonicClock ticks at the Record call).

public sealed record PlanRow(
    long Step, long Ticks, string Planner, string? SettingsJson, long Seed, int Iterations, double DeadlineMs,
    double ElapsedMs, float FinalCost, float[] CostPerIteration, int[] ChunkShape, float[] Chunk);
