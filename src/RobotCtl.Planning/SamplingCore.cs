using RobotCtl.Core.Timing;
using RobotCtl.Core.WorldModel;
using RobotCtl.Planning.Rollout;
using RobotCtl.Planning.Solvers;

namespace RobotCtl.Planning;

/// <summary>
/// What every sampling planner shares, whatever scores the candidates: the normalised search box from the model's
/// action statistics and the rig's limits, the CEM/MPPI solver, the warm start (previous mean shifted by the executed
/// blocks), per-plan seeds and filling the <see cref="PlanResult"/>. Allocates nothing per plan.
/// </summary>
internal sealed class SamplingCore
{
    private readonly Func<long> _clock;
    private readonly Func<Exception> _nonFinite;
    private readonly PopulationSolver _solver;
    private readonly float[] _initialMean, _warmMean;
    private bool _hasWarmStart;
    private ulong _plans;

    /// <param name="nonFinite">The error when every candidate scored non-finite (built once, so planning allocates nothing).</param>
    public SamplingCore(WorldModelSpec spec, PlannerOptions options, ActionBounds? bounds, Func<long> clock, Func<Exception> nonFinite)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Spec = spec;
        Options = options;
        _clock = clock;
        _nonFinite = nonFinite;
        Codec = new ActionCodec(spec, bounds ?? ActionBounds.Unbounded(spec.ActionDim), options.GripperDeadband);
        Space = Codec.CreateSearchSpace(options.Horizon);
        var settings = options.ToSolverSettings();
        if (options.InitStdPerDim is { } perDim)
        {
            if (perDim.Length != spec.ActionDim)
                throw new ArgumentException($"InitStdPerDim: expected {spec.ActionDim} values (model '{spec.Name}' action.dim), found {perDim.Length}");
            settings = settings with { InitStdPerVariable = [.. Enumerable.Range(0, Space.Dimension).Select(v => perDim[v % spec.ActionDim])] };
        }
        _solver = options.Solver == SolverKind.Mppi
            ? new MppiSolver(settings, Space, clock)
            : new CemSolver(settings, Space, clock);
        Solve = _solver.CreateResult();
        _initialMean = new float[Space.Dimension];
        _warmMean = new float[Space.Dimension];
    }

    public WorldModelSpec Spec { get; }
    public PlannerOptions Options { get; }
    public ActionCodec Codec { get; }
    public SearchSpace Space { get; }

    /// <summary>The last solve (its tick counters give the plan's timings).</summary>
    public SolveResult Solve { get; }

    public PlanResult CreateResult() => new(Options.Horizon, Codec.Block, Codec.Dim, Options.Iterations);

    public void ResetWarmStart() => _hasWarmStart = false;

    /// <summary>Warm start and plan count, to put back after a warm-up plan.</summary>
    public (float[] Mean, bool HasWarmStart, ulong Plans) Save() => (_warmMean.ToArray(), _hasWarmStart, _plans);

    public void Restore((float[] Mean, bool HasWarmStart, ulong Plans) saved)
    {
        saved.Mean.CopyTo(_warmMean);
        _hasWarmStart = saved.HasWarmStart;
        _plans = saved.Plans;
    }

    /// <summary>Refuses a result of another shape and a negative executed-block count (before any context is bound).</summary>
    public void Check(in PlanInput input, PlanResult result)
    {
        if (result.Actions.Length != Space.Dimension || result.BestCostStorage.Length < Options.Iterations)
            throw new ArgumentException("result was created by a planner of a different shape", "into");
        if (input.BlocksExecuted < 0) throw new ArgumentException($"BlocksExecuted: expected >= 0, found {input.BlocksExecuted}", nameof(input));
    }

    /// <summary>
    /// Solves from the warm start against <paramref name="cost"/> (its context already bound) and writes everything
    /// but the timings into <paramref name="result"/>. <paramref name="start"/> is when the plan began (deadline base).
    /// </summary>
    public void Run(ITrajectoryCost cost, in PlanInput input, PlanResult result, int maxIterations, long start)
    {
        PrepareInitialMean(input.BlocksExecuted);
        var seed = input.Seed ?? DeriveSeed(Options.Seed, _plans);
        _plans++;
        var deadline = input.DeadlineTicks
            ?? (Options.Deadline is { } budget ? start + MonotonicClock.FromTimeSpan(budget) : long.MaxValue);

        _solver.Solve(cost, _initialMean, seed, deadline, Solve, maxIterations);
        if (Solve.Iterations > 0 && !float.IsFinite(Solve.BestCost)) throw _nonFinite();

        Codec.Denormalise(Options.Execute == PlanExecute.Mean ? Solve.Mean : Solve.Best, result.Actions);
        Solve.Mean.CopyTo(result.NormalisedMean);
        Solve.Mean.CopyTo(_warmMean);
        _hasWarmStart = true;
        Solve.BestCostPerIteration.CopyTo(result.BestCostStorage);
        result.FinalCost = Solve.BestCost;
        result.Iterations = Solve.Iterations;
        result.StoppedByDeadline = Solve.StoppedByDeadline;
        result.Seed = seed;
    }

    /// <summary>Ticks since <paramref name="start"/>.</summary>
    public long Elapsed(long start) => _clock() - start;

    /// <summary>Warm start: the previous mean shifted left by the executed blocks, zero-padded (normalised zero).</summary>
    private void PrepareInitialMean(int blocksExecuted)
    {
        Array.Clear(_initialMean);
        if (!_hasWarmStart || !Options.WarmStart) return;
        var shift = blocksExecuted * Codec.BlockSize;
        if (shift < _warmMean.Length) _warmMean.AsSpan(shift).CopyTo(_initialMean);
    }

    /// <summary>SplitMix64-style mixing, so consecutive plans get unrelated streams.</summary>
    internal static ulong DeriveSeed(ulong seed, ulong plan)
    {
        var z = seed + (plan + 1) * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
