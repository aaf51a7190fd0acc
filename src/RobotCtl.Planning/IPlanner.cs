namespace RobotCtl.Planning;

/// <summary>
/// What the control loop needs from a planner: a goal, a chunk per cycle, a warm start it can drop, and (optionally)
/// a prediction of the next observation for surprise monitoring. <see cref="LatentPlanner"/> plans in a world model's
/// latent space; <see cref="ExternalCostPlanner"/> runs the same solver over another cost (the sim oracle);
/// <see cref="RandomPlanner"/> is the chance baseline. One thread at a time.
/// </summary>
public interface IPlanner : IDisposable
{
    PlannerOptions Options { get; }

    /// <summary>A result this planner can plan into without allocating.</summary>
    PlanResult CreateResult();

    /// <summary>The goal image's latent (copied). Planners whose goal is not a latent ignore it.</summary>
    void SetGoal(ReadOnlySpan<float> goalLatent);

    /// <summary>The next plan starts cold (a new goal, or a discontinuity).</summary>
    void ResetWarmStart();

    /// <summary>Creates what later plans reuse and runs a short plan, leaving warm start and seed sequence as they were.</summary>
    void WarmUp(in PlanInput input);

    /// <summary>Plans one chunk into <paramref name="into"/> (or a new result).</summary>
    PlanResult Plan(in PlanInput input, PlanResult? into = null);

    /// <summary>The latent expected after <paramref name="blocks"/> blocks of <paramref name="plan"/>; false when this planner cannot predict one.</summary>
    bool TryPredictLatent(ReadOnlySpan<float> latent, PlanResult plan, int blocks, Span<float> predicted);
}
