using RobotCtl.Core.Arm;

namespace RobotCtl.Planning;

/// <summary>
/// A planned action chunk and how it was found. Reusable: <see cref="LatentPlanner.Plan"/> can overwrite one
/// instance per plan (<see cref="LatentPlanner.CreateResult"/>), so steady-state planning allocates nothing.
/// </summary>
public sealed class PlanResult
{
    private readonly float[] _bestCosts;

    internal PlanResult(int horizon, int block, int dim, int maxIterations)
    {
        Horizon = horizon; Block = block; ActionDim = dim;
        Actions = new float[horizon * block * dim];
        NormalisedMean = new float[horizon * block * dim];
        _bestCosts = new float[maxIterations];
    }

    public int Horizon { get; }
    public int Block { get; }
    public int ActionDim { get; }

    /// <summary>Low-level steps in the chunk: Horizon x Block.</summary>
    public int Steps => Horizon * Block;

    /// <summary>The chunk in physical units, one ActionDim-vector per low-level step, row-major [Steps, ActionDim].</summary>
    public float[] Actions { get; }

    public ReadOnlySpan<float> Action(int step) => Actions.AsSpan(step * ActionDim, ActionDim);

    /// <summary>Step <paramref name="step"/> as a 7-D end-effector command (model action frame).</summary>
    public EeCommand Command(int step) => EeCommand.FromSpan(Action(step));

    /// <summary>Cost of the returned chunk (the lowest scored); NaN when no iteration ran.</summary>
    public float FinalCost { get; internal set; }

    public int Iterations { get; internal set; }

    public bool StoppedByDeadline { get; internal set; }

    /// <summary>The lowest cost among each iteration's samples (non-increasing with elitism).</summary>
    public ReadOnlySpan<float> BestCostPerIteration => _bestCosts.AsSpan(0, Iterations);

    internal Span<float> BestCostStorage => _bestCosts;

    /// <summary>The solver's final mean in normalised units [Horizon, Block*ActionDim]: the next plan's warm start.</summary>
    public float[] NormalisedMean { get; }

    public ulong Seed { get; internal set; }

    public PlanTimings Timings { get; internal set; }
}
