using RobotCtl.Core.WorldModel;
using RobotCtl.Planning.Solvers;

namespace RobotCtl.Planning;

/// <summary>
/// Planner configuration. Defaults are LeWM's (stable-worldmodel CEM): 300 samples, top 30, 30 iterations,
/// horizon 5 blocks, initial std 1 in the normalised action space, no momentum, no std clamp.
/// V-JEPA 2-AC's released code adds momentum on mean and std (0.15-0.25 / 0.95) and a gripper dead-band (0.25);
/// TD-MPC2's MPPI clamps std to [0.05, 2] with temperature 0.5 (<see cref="ForModel"/> picks those for "mppi").
/// </summary>
public sealed record PlannerOptions
{
    public SolverKind Solver { get; init; } = SolverKind.Cem;
    public int Samples { get; init; } = 300;
    public int TopK { get; init; } = 30;
    public int Iterations { get; init; } = 30;

    /// <summary>Predictor steps (action blocks) planned ahead.</summary>
    public int Horizon { get; init; } = 5;

    /// <summary>Initial std of every searched dimension, in normalised units.</summary>
    public float InitStd { get; init; } = 1f;

    /// <summary>Initial std per low-level action dimension (normalised units) in place of <see cref="InitStd"/>; null = InitStd everywhere.</summary>
    public float[]? InitStdPerDim { get; init; }

    /// <summary>Start each plan from the previous plan's mean shifted by the executed blocks (false: from zero every plan).</summary>
    public bool WarmStart { get; init; } = true;

    /// <summary>Sample 0 of every iteration is the current mean (LeWM's CEM); false draws every sample.</summary>
    public bool MeanSample { get; init; } = true;

    /// <summary>Weight kept on the previous mean / std at each refit (V-JEPA 2-AC momentum); 0 = plain refit.</summary>
    public float MeanMomentum { get; init; }
    public float StdMomentum { get; init; }

    /// <summary>Clamp on the refit std, normalised units (MPPI: [0.05, 2]).</summary>
    public float MinStd { get; init; }
    public float MaxStd { get; init; } = float.PositiveInfinity;

    /// <summary>MPPI lambda: elite weights are exp(-(cost - min cost) / Temperature).</summary>
    public float Temperature { get; init; } = 0.5f;

    /// <summary>Re-score the best candidate so far in every iteration (sample 1), so the best cost never rises.</summary>
    public bool Elitism { get; init; } = true;

    /// <summary>What the plan's chunk is: the best sample scored (default) or the final mean (stable-worldmodel's CEM).</summary>
    public PlanExecute Execute { get; init; } = PlanExecute.Best;

    /// <summary>Physical gripper actions with |g| below this become 0 (V-JEPA 2-AC: 0.25); 0 = off. 7-D actions only.</summary>
    public float GripperDeadband { get; init; }

    /// <summary>Latent distance; null = the model's (manifest planner.cost).</summary>
    public LatentCost? Cost { get; init; }

    /// <summary>
    /// How each horizon step's distance to the goal is weighted: last step only (LeWM, the default), every step
    /// (sum), or one weight per step. <see cref="ForModel"/> takes the manifest's planner.cost_shape.
    /// </summary>
    public CostShape CostShape { get; init; } = CostShape.Last;

    /// <summary>
    /// Weights of the latent's first dimensions in the distance to the goal, the rest weighing 1
    /// (<see cref="Core.WorldModel.LatentWeights"/>); null weighs every dimension 1. <see cref="ForModel"/> takes the
    /// manifest's planner.latent_weights.
    /// </summary>
    public float[]? LatentWeights { get; init; }

    /// <summary>Base seed; plan n uses a seed derived from it and n unless the input names one.</summary>
    public ulong Seed { get; init; }

    /// <summary>
    /// Give the predictor a window's leading positions that every candidate shares (observed frames with their executed
    /// actions) once per call, when the model has a shared-context graph; false runs every position for every candidate.
    /// The costs agree to float rounding (docs/PERFORMANCE.md, "Shared context").
    /// </summary>
    public bool SharedContext { get; init; } = true;

    /// <summary>
    /// Threads a rollout step runs its predictor calls on: the candidates split into this many shards, each predicted
    /// on its own thread (1: one call for all). Pair it with one ONNX Runtime intra-op thread per call
    /// (Inference:IntraOpThreads=1) so the shards, not the operators, share the cores (docs/PERFORMANCE.md).
    /// </summary>
    public int RolloutThreads { get; init; } = 1;

    /// <summary>Time budget per plan, from the call; null = run every iteration.</summary>
    public TimeSpan? Deadline { get; init; }

    /// <summary>The model's shipped planner defaults (manifest "planner": numbers, cost shape, execute, elitism, momentum
    /// on mean and std, gripper dead-band), with TD-MPC2's std clamp for MPPI.</summary>
    public static PlannerOptions ForModel(WorldModelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var p = spec.Planner;
        var mppi = p.Solver.Equals("mppi", StringComparison.OrdinalIgnoreCase);
        if (!mppi && !p.Solver.Equals("cem", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"planner.solver: expected \"cem\" or \"mppi\", found \"{p.Solver}\"");
        return new PlannerOptions
        {
            Solver = mppi ? SolverKind.Mppi : SolverKind.Cem,
            Samples = p.Samples, TopK = p.TopK, Iterations = p.Iterations, Horizon = p.Horizon, InitStd = p.InitStd,
            MinStd = mppi ? 0.05f : 0f, MaxStd = mppi ? 2f : float.PositiveInfinity,
            Cost = spec.Cost,
            CostShape = p.CostShape ?? CostShape.Last,
            Elitism = p.Elitism,
            Execute = ParseExecute(p.Execute, "planner.execute"),
            MeanMomentum = p.MeanMomentum, StdMomentum = p.StdMomentum, GripperDeadband = p.GripperDeadband,
            InitStdPerDim = p.InitStdPerDim, WarmStart = p.WarmStart, MeanSample = p.MeanSample, LatentWeights = p.LatentWeights,
        };
    }

    /// <summary>"best" or "mean" (manifest planner.execute, setting Planner:Execute).</summary>
    public static PlanExecute ParseExecute(string text, string what) => text.ToLowerInvariant() switch
    {
        "best" => PlanExecute.Best,
        "mean" => PlanExecute.Mean,
        _ => throw new ArgumentException($"{what}: expected \"best\" or \"mean\", found \"{text}\""),
    };

    public void Validate()
    {
        if (InitStdPerDim is { } perDim && perDim.Any(v => !(v > 0) || !float.IsFinite(v)))
            throw new ArgumentException($"InitStdPerDim: expected finite values > 0, found [{string.Join(", ", perDim)}]");
        ToSolverSettings().Validate();
        if (Horizon < 1) throw new ArgumentException($"Horizon: expected >= 1, found {Horizon}");
        if (RolloutThreads is < 1 or > MaxRolloutThreads) throw new ArgumentException($"RolloutThreads: expected 1..{MaxRolloutThreads}, found {RolloutThreads}");
        if (!(GripperDeadband >= 0) || !float.IsFinite(GripperDeadband)) throw new ArgumentException($"GripperDeadband: expected a finite value >= 0, found {GripperDeadband}");
        if (Deadline is { } d && d < TimeSpan.Zero) throw new ArgumentException($"Deadline: expected >= 0, found {d}");
        if (CostShape is null) throw new ArgumentException("CostShape: expected last, sum or weights, found nothing");
        if (CostShape.Weights is { } w && w.Count != Horizon)
            throw new ArgumentException($"CostShape: expected {Horizon} weights (one per horizon step), found {w.Count} ({CostShape})");
    }

    /// <summary>More rollout threads than any workstation has cores is a typo.</summary>
    public const int MaxRolloutThreads = 256;

    /// <summary>The weight of each horizon step under <see cref="CostShape"/> (a new array).</summary>
    public float[] StepWeights() => CostShape.Resolve(Horizon);

    internal SolverSettings ToSolverSettings() => new()
    {
        Samples = Samples, TopK = TopK, Iterations = Iterations, InitStd = InitStd,
        MeanMomentum = MeanMomentum, StdMomentum = StdMomentum, MinStd = MinStd, MaxStd = MaxStd, MeanSample = MeanSample,
        Temperature = Temperature, Elitism = Elitism,
    };
}
