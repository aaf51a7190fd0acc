namespace RobotCtl.Planning.Solvers;

/// <summary>
/// What one solve produced, in the solver's (normalised) variables. Reusable: a solver overwrites it in place,
/// so a caller that keeps one instance per solver allocates nothing per solve.
/// </summary>
public sealed class SolveResult
{
    private readonly float[] _bestCosts;

    public SolveResult(int dimension, int maxIterations)
    {
        Best = new float[dimension];
        Mean = new float[dimension];
        Std = new float[dimension];
        _bestCosts = new float[maxIterations];
    }

    /// <summary>The lowest-cost candidate scored (the initial mean when no iteration ran).</summary>
    public float[] Best { get; }

    /// <summary>Cost of <see cref="Best"/>; NaN when no iteration ran (nothing was scored).</summary>
    public float BestCost { get; internal set; }

    /// <summary>The sampling distribution's mean after the last refit: the warm start of the next solve.</summary>
    public float[] Mean { get; }

    public float[] Std { get; }

    public int Iterations { get; internal set; }

    /// <summary>True when the deadline stopped the solve before its configured iterations.</summary>
    public bool StoppedByDeadline { get; internal set; }

    /// <summary>Lowest cost among each iteration's samples, one per iteration done.</summary>
    public ReadOnlySpan<float> BestCostPerIteration => _bestCosts.AsSpan(0, Iterations);

    internal Span<float> BestCostStorage => _bestCosts;

    /// <summary>Stopwatch ticks spent sampling, selecting elites and refitting (everything but the cost).</summary>
    public long SolverTicks { get; internal set; }

    /// <summary>Stopwatch ticks spent inside <see cref="ITrajectoryCost.Evaluate"/>.</summary>
    public long CostTicks { get; internal set; }
}
