using System.Diagnostics;
using RobotCtl.Core.Timing;
using RobotCtl.Core.WorldModel;
using RobotCtl.Planning.Rollout;
using RobotCtl.Planning.Solvers;

namespace RobotCtl.Planning;

/// <summary>
/// Model-predictive planning in a world model's latent space: finds the action chunk whose predicted final latent
/// is closest to the goal latent, with CEM (default) or MPPI over predictor rollouts. Holds every buffer it needs
/// (predictor buffers per window length included) and the warm start between plans. One thread at a time;
/// the model is borrowed, not owned.
/// </summary>
public sealed class LatentPlanner : IDisposable
{
    private readonly Func<long> _clock;
    private readonly ActionCodec _codec;
    private readonly WorldModelRolloutCost _cost;
    private readonly PopulationSolver _solver;
    private readonly SolveResult _solve;
    private readonly float[] _initialMean, _warmMean;
    private bool _hasWarmStart;
    private ulong _plans;

    /// <param name="model">The world model; its spec gives action statistics, searched dimensions and history.</param>
    /// <param name="options">Solver numbers; <see cref="PlannerOptions.ForModel"/> gives the model's defaults.</param>
    /// <param name="bounds">Physical per-step limits in the model's action frame (<see cref="ActionBounds.FromLimits"/>);
    /// null = unbounded, as LeWM plans.</param>
    public LatentPlanner(IWorldModel model, PlannerOptions options, ActionBounds? bounds = null)
        : this(model, options, bounds, null) { }

    internal LatentPlanner(IWorldModel model, PlannerOptions options, ActionBounds? bounds, Func<long>? clock)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Spec = model.Spec;
        Options = options;
        _clock = clock ?? Stopwatch.GetTimestamp;
        _codec = new ActionCodec(Spec, bounds ?? ActionBounds.Unbounded(Spec.ActionDim), options.GripperDeadband);
        Space = _codec.CreateSearchSpace(options.Horizon);
        var settings = options.ToSolverSettings();
        _solver = options.Solver == SolverKind.Mppi
            ? new MppiSolver(settings, Space, _clock)
            : new CemSolver(settings, Space, _clock);
        _solve = _solver.CreateResult();
        _cost = new WorldModelRolloutCost(model, _codec, options.Samples, options.Horizon, options.Cost ?? Spec.Cost,
            options.StepWeights, _clock);
        _initialMean = new float[Space.Dimension];
        _warmMean = new float[Space.Dimension];
    }

    public WorldModelSpec Spec { get; }
    public PlannerOptions Options { get; }

    /// <summary>The normalised box searched: [Horizon * Block * ActionDim] variables.</summary>
    public SearchSpace Space { get; }

    public PlanResult CreateResult() => new(Options.Horizon, _codec.Block, _codec.Dim, Options.Iterations);

    /// <summary>Sets the goal latent (the encoder's output for the goal image), copied; encode once per goal.</summary>
    public void SetGoal(ReadOnlySpan<float> goalLatent) => _cost.SetGoal(goalLatent);

    /// <summary>The next plan starts from zeros instead of the previous mean (a new goal or a discontinuity).</summary>
    public void ResetWarmStart() => _hasWarmStart = false;

    /// <summary>
    /// Creates the predictor buffers for every window length and runs two solver iterations from
    /// <paramref name="input"/> (JIT, native allocations, a per-iteration time estimate for deadlines), so later
    /// plans allocate nothing. Leaves the warm start and the seed sequence as they were.
    /// </summary>
    public void WarmUp(in PlanInput input)
    {
        _cost.CreateAllBuffers();
        var savedMean = _warmMean.ToArray();
        var savedHasWarmStart = _hasWarmStart;
        var savedPlans = _plans;
        PlanCore(input with { DeadlineTicks = long.MaxValue, Seed = 0 }, CreateResult(), maxIterations: 2);
        savedMean.CopyTo(_warmMean);
        _hasWarmStart = savedHasWarmStart;
        _plans = savedPlans;
    }

    /// <summary>
    /// Plans one chunk from <paramref name="input"/> toward the goal. Writes into <paramref name="into"/> when given
    /// (created by <see cref="CreateResult"/>; no allocation), else into a new result.
    /// </summary>
    /// <exception cref="ArgumentException">the input does not fit the model (lengths, non-finite values).</exception>
    /// <exception cref="InvalidOperationException">no goal was set.</exception>
    /// <exception cref="WorldModelException">every rollout produced a non-finite cost.</exception>
    public PlanResult Plan(in PlanInput input, PlanResult? into = null)
    {
        if (input.MaxIterations is < 0) throw new ArgumentException($"MaxIterations: expected >= 0, found {input.MaxIterations}", nameof(input));
        return PlanCore(input, into ?? CreateResult(), input.MaxIterations ?? int.MaxValue);
    }

    /// <summary>
    /// The latent the model predicts after the first <paramref name="blocks"/> blocks of <paramref name="plan"/> are
    /// executed from the frame <paramref name="latent"/> (and, for state models, the current state of the last plan's
    /// input): what the next observation should look like, for surprise monitoring. One batch-1 rollout; its
    /// predictor buffers are created on first use, then reused. False when no plan was made yet or the prediction is
    /// not finite.
    /// </summary>
    public bool TryPredictLatent(ReadOnlySpan<float> latent, PlanResult plan, int blocks, Span<float> predicted)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return _cost.TryPredict(latent, plan.Actions, blocks, predicted);
    }

    private PlanResult PlanCore(in PlanInput input, PlanResult result, int maxIterations)
    {
        var start = _clock();
        if (result.Actions.Length != Space.Dimension || result.BestCostStorage.Length < Options.Iterations)
            throw new ArgumentException("result was created by a planner of a different shape", "into");
        if (input.BlocksExecuted < 0) throw new ArgumentException($"BlocksExecuted: expected >= 0, found {input.BlocksExecuted}", nameof(input));
        _cost.SetContext(input.Latents, input.PastActions, input.States);

        PrepareInitialMean(input.BlocksExecuted);
        var seed = input.Seed ?? DeriveSeed(Options.Seed, _plans);
        _plans++;
        var deadline = input.DeadlineTicks
            ?? (Options.Deadline is { } budget ? start + MonotonicClock.FromTimeSpan(budget) : long.MaxValue);

        _cost.ResetCounters();
        _solver.Solve(_cost, _initialMean, seed, deadline, _solve, maxIterations);
        if (_solve.Iterations > 0 && !float.IsFinite(_solve.BestCost))
            throw new WorldModelException($"model '{Spec.Name}': every rollout gave a non-finite cost (NaN or infinite latents); refusing to plan");

        _codec.Denormalise(_solve.Best, result.Actions);
        _solve.Mean.CopyTo(result.NormalisedMean);
        _solve.Mean.CopyTo(_warmMean);
        _hasWarmStart = true;
        _solve.BestCostPerIteration.CopyTo(result.BestCostStorage);
        result.FinalCost = _solve.BestCost;
        result.Iterations = _solve.Iterations;
        result.StoppedByDeadline = _solve.StoppedByDeadline;
        result.Seed = seed;
        var total = _clock() - start;
        result.Timings = new PlanTimings(
            MonotonicClock.TicksToMs(total),
            MonotonicClock.TicksToMs(_cost.PredictorTicks),
            MonotonicClock.TicksToMs(_solve.CostTicks - _cost.PredictorTicks),
            MonotonicClock.TicksToMs(_solve.SolverTicks));
        return result;
    }

    /// <summary>Warm start: the previous mean shifted left by the executed blocks, zero-padded (normalised zero).</summary>
    private void PrepareInitialMean(int blocksExecuted)
    {
        Array.Clear(_initialMean);
        if (!_hasWarmStart) return;
        var shift = blocksExecuted * _codec.BlockSize;
        if (shift < _warmMean.Length) _warmMean.AsSpan(shift).CopyTo(_initialMean);
    }

    /// <summary>SplitMix64-style mixing, so consecutive plans get unrelated streams.</summary>
    private static ulong DeriveSeed(ulong seed, ulong plan)
    {
        var z = seed + (plan + 1) * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public void Dispose() => _cost.Dispose();
}
