namespace RobotCtl.Evaluation;

/// <summary>What was evaluated: task, planner and its settings, pacing and budget.</summary>
public sealed record EvalSetup(
    string Task, int Seed, string Planner, string Solver, string Model, string ModelDirectory, int Samples, int TopK,
    int Iterations, int Horizon, string CostShape, double RateHz, int CommandsPerCycle, int StepBudget, int MaxCycles,
    double SuccessRadiusMetres, bool SubGoals = false, int ContextFrames = 1);
