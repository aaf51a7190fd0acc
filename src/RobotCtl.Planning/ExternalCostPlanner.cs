using System.Diagnostics;
using RobotCtl.Core.Timing;
using RobotCtl.Core.WorldModel;
using RobotCtl.Planning.Rollout;
using RobotCtl.Planning.Solvers;

namespace RobotCtl.Planning;

/// <summary>
/// The same planner as <see cref="LatentPlanner"/> (search box in the model's normalised action space, held
/// dimensions, rig limits, CEM or MPPI, warm start, seeds, deadline) scoring candidates with an
/// <see cref="IActionCost"/> instead of world-model rollouts. The goal is the cost's own: <see cref="SetGoal"/>
/// ignores latents, and there is no latent prediction. Owns the cost (disposes it when it is disposable).
/// </summary>
public sealed class ExternalCostPlanner : IPlanner
{
    private readonly Func<long> _clock;
    private readonly SamplingCore _core;
    private readonly Adapter _adapter;

    /// <param name="spec">The model whose action statistics (mean, std, searched dimensions, block) define the search.</param>
    /// <param name="bounds">Physical per-step limits in the model's action frame; null = unbounded.</param>
    public ExternalCostPlanner(WorldModelSpec spec, PlannerOptions options, ActionBounds? bounds, IActionCost cost)
    {
        ArgumentNullException.ThrowIfNull(cost);
        _clock = Stopwatch.GetTimestamp;
        var nonFinite = new InvalidOperationException($"{cost.GetType().Name}: every candidate scored a non-finite cost; refusing to plan");
        _core = new SamplingCore(spec, options, bounds, _clock, () => nonFinite);
        Cost = cost;
        _adapter = new Adapter(_core.Codec, cost, options.Samples * _core.Space.Dimension);
    }

    public IActionCost Cost { get; }
    public PlannerOptions Options => _core.Options;
    public SearchSpace Space => _core.Space;

    public PlanResult CreateResult() => _core.CreateResult();

    public void SetGoal(ReadOnlySpan<float> goalLatent) { }

    public void ResetWarmStart() => _core.ResetWarmStart();

    public void WarmUp(in PlanInput input)
    {
        var saved = _core.Save();
        PlanCore(input with { DeadlineTicks = long.MaxValue, Seed = 0 }, CreateResult(), maxIterations: 2);
        _core.Restore(saved);
    }

    public PlanResult Plan(in PlanInput input, PlanResult? into = null)
    {
        if (input.MaxIterations is < 0) throw new ArgumentException($"MaxIterations: expected >= 0, found {input.MaxIterations}", nameof(input));
        return PlanCore(input, into ?? CreateResult(), input.MaxIterations ?? int.MaxValue);
    }

    public bool TryPredictLatent(ReadOnlySpan<float> latent, PlanResult plan, int blocks, Span<float> predicted) => false;

    private PlanResult PlanCore(in PlanInput input, PlanResult result, int maxIterations)
    {
        var start = _clock();
        _core.Check(input, result);
        Cost.BeginPlan(input);
        _core.Run(_adapter, input, result, maxIterations, start);
        var solve = _core.Solve;
        // No predictor here: the cost's own work (e.g. simulated rollouts) is reported as rollout time.
        result.Timings = new PlanTimings(MonotonicClock.TicksToMs(_core.Elapsed(start)), 0,
            MonotonicClock.TicksToMs(solve.CostTicks), MonotonicClock.TicksToMs(solve.SolverTicks));
        return result;
    }

    public void Dispose() => (Cost as IDisposable)?.Dispose();

    /// <summary>De-normalises the solver's candidates (bounds re-applied, held dimensions exactly 0) into one reused buffer.</summary>
    private sealed class Adapter(ActionCodec codec, IActionCost cost, int capacity) : ITrajectoryCost
    {
        private readonly float[] _physical = new float[capacity];

        public void Evaluate(ReadOnlySpan<float> candidates, Span<float> costs)
        {
            var physical = _physical.AsSpan(0, candidates.Length);
            codec.Denormalise(candidates, physical);
            cost.Evaluate(physical, costs);
            for (var i = 0; i < costs.Length; i++)
                if (!float.IsFinite(costs[i])) costs[i] = float.PositiveInfinity;
        }
    }
}
