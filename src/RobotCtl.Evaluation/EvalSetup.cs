namespace RobotCtl.Evaluation;

/// <summary>What was evaluated: task, planner and its settings, pacing and budget. <paramref name="LatentWeights"/>: the
/// planner's weights of the latent's first dimensions, comma-separated (null: every dimension 1).</summary>
public sealed record EvalSetup(
    string Task, int Seed, string Planner, string Solver, string Model, string ModelDirectory, int Samples, int TopK,
    int Iterations, int Horizon, string CostShape, double RateHz, int CommandsPerCycle, int StepBudget, int MaxCycles,
    double SuccessRadiusMetres, bool SubGoals = false, int ContextFrames = 1, string? LatentWeights = null);
