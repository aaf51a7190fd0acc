namespace RobotCtl.Planning;

/// <summary>
/// Milliseconds: the whole plan; inside the predictor; the rollout's own work (windows, states, distances);
/// the solver's (sampling, elite selection, refit).
/// </summary>
public readonly record struct PlanTimings(double TotalMs, double PredictorMs, double RolloutMs, double SolverMs)
{
    /// <summary>Fraction of the plan spent in sampling, elite selection and refits.</summary>
    public double SolverShare => TotalMs > 0 ? SolverMs / TotalMs : 0;
}
