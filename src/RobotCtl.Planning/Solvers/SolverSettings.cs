namespace RobotCtl.Planning.Solvers;

/// <summary>
/// Population-solver numbers. Momentum is the weight kept on the previous value (V-JEPA 2-AC):
/// mean = m * mean + (1 - m) * refit. Std is clamped to [MinStd, MaxStd] after the refit (TD-MPC2: [0.05, 2]).
/// Temperature is MPPI's lambda in exp(-(cost - min cost) / lambda). Elitism re-scores the best candidate so far
/// as sample 1 of every later iteration, so the best cost per iteration never rises.
/// </summary>
public sealed record SolverSettings
{
    public int Samples { get; init; } = 300;
    public int TopK { get; init; } = 30;
    public int Iterations { get; init; } = 30;
    public float InitStd { get; init; } = 1f;
    public float MeanMomentum { get; init; }
    public float StdMomentum { get; init; }
    public float MinStd { get; init; }
    public float MaxStd { get; init; } = float.PositiveInfinity;
    public float Temperature { get; init; } = 0.5f;
    public bool Elitism { get; init; } = true;

    /// <summary>Sample 0 of every iteration is the current mean (false: every sample is drawn).</summary>
    public bool MeanSample { get; init; } = true;

    /// <summary>Initial std per search variable (null: <see cref="InitStd"/> everywhere); held variables stay at 0.</summary>
    public float[]? InitStdPerVariable { get; init; }

    public void Validate()
    {
        if (Samples < 2) throw new ArgumentException($"Samples: expected >= 2, found {Samples}");
        if (TopK < 1 || TopK > Samples) throw new ArgumentException($"TopK: expected 1..Samples ({Samples}), found {TopK}");
        if (Iterations < 0) throw new ArgumentException($"Iterations: expected >= 0, found {Iterations}");
        if (!(InitStd >= 0) || !float.IsFinite(InitStd)) throw new ArgumentException($"InitStd: expected a finite value >= 0, found {InitStd}");
        if (!(MeanMomentum is >= 0 and < 1)) throw new ArgumentException($"MeanMomentum: expected 0 <= m < 1, found {MeanMomentum}");
        if (!(StdMomentum is >= 0 and < 1)) throw new ArgumentException($"StdMomentum: expected 0 <= m < 1, found {StdMomentum}");
        if (!(MinStd >= 0) || !(MinStd <= MaxStd)) throw new ArgumentException($"MinStd/MaxStd: expected 0 <= MinStd <= MaxStd, found {MinStd}, {MaxStd}");
        if (!(Temperature > 0) || !float.IsFinite(Temperature)) throw new ArgumentException($"Temperature: expected a finite value > 0, found {Temperature}");
    }
}
