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
public sealed class LatentPlanner : IPlanner
{
    private readonly Func<long> _clock;
    private readonly SamplingCore _core;
    private readonly WorldModelRolloutCost _cost;

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
        var spec = model.Spec;
        _clock = clock ?? Stopwatch.GetTimestamp;
        var nonFinite = new WorldModelException($"model '{spec.Name}': every rollout gave a non-finite cost (NaN or infinite latents); refusing to plan");
        _core = new SamplingCore(spec, options, bounds, _clock, () => nonFinite);
        _cost = new WorldModelRolloutCost(model, _core.Codec, options.Samples, options.Horizon, options.Cost ?? spec.Cost,
            options.StepWeights(), _clock, options.SharedContext, options.RolloutThreads,
            options.LatentWeights is { } w ? LatentWeights.Resolve(w, spec.LatentSize, $"model '{spec.Name}': planner latent weights") : null);
    }

    public WorldModelSpec Spec => _core.Spec;
    public PlannerOptions Options => _core.Options;

    /// <summary>Whether rollouts give the predictor the candidates' shared leading positions once (the model has a
    /// shared-context graph and <see cref="PlannerOptions.SharedContext"/> is on).</summary>
    public bool SharesContext => _cost.SharesContext;

    /// <summary>The normalised box searched: [Horizon * Block * ActionDim] variables.</summary>
    public SearchSpace Space => _core.Space;

    public PlanResult CreateResult() => _core.CreateResult();

    /// <summary>Sets the goal latent (the encoder's output for the goal image), copied; encode once per goal.</summary>
    public void SetGoal(ReadOnlySpan<float> goalLatent) => _cost.SetGoal(goalLatent);

    /// <summary>The next plan starts from zeros instead of the previous mean (a new goal or a discontinuity).</summary>
    public void ResetWarmStart() => _core.ResetWarmStart();

    /// <summary>
    /// Creates the predictor buffers for every window length and runs two solver iterations from
    /// <paramref name="input"/> (JIT, native allocations, a per-iteration time estimate for deadlines), so later
    /// plans allocate nothing. Leaves the warm start and the seed sequence as they were.
    /// </summary>
    public void WarmUp(in PlanInput input)
    {
        _cost.CreateAllBuffers();
        var saved = _core.Save();
        PlanCore(input with { DeadlineTicks = long.MaxValue, Seed = 0 }, CreateResult(), maxIterations: 2);
        _core.Restore(saved);
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

    /// <summary>
    /// The cost of each given candidate from <paramref name="input"/>'s context, exactly as the solver scores its
    /// samples, and each candidate's last predicted latent. Candidates are normalised, [Options.Samples, Horizon *
    /// Block * Dim], and are not clipped to the search box (a reference planner scores what it is given). A candidate
    /// whose rollout is not finite costs +infinity. For `robotctl model score`: debugging a plan, checking parity.
    /// </summary>
    /// <param name="finalLatents">[Options.Samples, LatentSize], or empty.</param>
    public void Score(in PlanInput input, ReadOnlySpan<float> candidates, Span<float> costs, Span<float> finalLatents)
    {
        var samples = _core.Options.Samples;
        var horizon = _core.Options.Horizon;
        var latent = _core.Spec.LatentSize;
        if (costs.Length != samples) throw new ArgumentException($"costs: expected {samples} values (one per candidate), found {costs.Length}");
        if (!finalLatents.IsEmpty && finalLatents.Length != samples * latent)
            throw new ArgumentException($"final latents: expected {samples} x {latent} values, found {finalLatents.Length}");
        _cost.SetContext(input.Latents, input.PastActions, input.States, input.PastActionsNormalised);
        _cost.Evaluate(candidates, costs);
        if (finalLatents.IsEmpty) return;
        var predicted = _cost.Predictions;
        for (var b = 0; b < samples; b++)
            predicted.Slice((b * horizon + horizon - 1) * latent, latent).CopyTo(finalLatents.Slice(b * latent, latent));
    }

    private PlanResult PlanCore(in PlanInput input, PlanResult result, int maxIterations)
    {
        var start = _clock();
        _core.Check(input, result);
        _cost.SetContext(input.Latents, input.PastActions, input.States, input.PastActionsNormalised);
        _cost.ResetCounters();
        _core.Run(_cost, input, result, maxIterations, start);
        var solve = _core.Solve;
        result.Timings = new PlanTimings(
            MonotonicClock.TicksToMs(_core.Elapsed(start)),
            MonotonicClock.TicksToMs(_cost.PredictorTicks),
            MonotonicClock.TicksToMs(solve.CostTicks - _cost.PredictorTicks),
            MonotonicClock.TicksToMs(solve.SolverTicks));
        return result;
    }

    public void Dispose() => _cost.Dispose();
}
