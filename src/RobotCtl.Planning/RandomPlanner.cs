using System.Diagnostics;
using RobotCtl.Core.Timing;
using RobotCtl.Core.WorldModel;
using RobotCtl.Planning.Solvers;

namespace RobotCtl.Planning;

/// <summary>
/// The chance baseline: every low-level action of the chunk drawn uniformly within the rig's per-step limits on the
/// model's searched dimensions (unsearched ones exactly 0), from the plan's seed, so a seed names one chunk.
/// Nothing is scored: <see cref="PlanResult.FinalCost"/> is NaN and one "iteration" is reported so the chunk is used.
/// </summary>
public sealed class RandomPlanner : IPlanner
{
    private readonly Xoshiro256StarStar _rng = new(0);
    private readonly float[] _max;
    private readonly bool[] _search;
    private readonly int _block, _dim;
    private ulong _plans;

    /// <param name="bounds">Physical per-step limits in the model's action frame; finite on every searched dimension.</param>
    public RandomPlanner(WorldModelSpec spec, PlannerOptions options, ActionBounds bounds)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(bounds);
        options.Validate();
        if (bounds.MaxStep.Length != spec.ActionDim || spec.ActionSearch.Length != spec.ActionDim)
            throw new ArgumentException($"random planner: expected {spec.ActionDim} per-step limits and search flags (model action dim), found {bounds.MaxStep.Length} and {spec.ActionSearch.Length}");
        for (var i = 0; i < spec.ActionDim; i++)
            if (spec.ActionSearch[i] && !float.IsFinite(bounds.MaxStep[i]))
                throw new ArgumentException($"random planner: action dimension {i} is searched, so it needs a finite per-step limit, found {bounds.MaxStep[i]}");
        Options = options;
        _max = bounds.MaxStep;
        _search = spec.ActionSearch;
        _block = spec.ActionBlock;
        _dim = spec.ActionDim;
    }

    public PlannerOptions Options { get; }

    public PlanResult CreateResult() => new(Options.Horizon, _block, _dim, Math.Max(1, Options.Iterations));

    public void SetGoal(ReadOnlySpan<float> goalLatent) { }

    public void ResetWarmStart() { }

    public void WarmUp(in PlanInput input)
    {
        var plans = _plans;
        Plan(input with { Seed = 0 }, CreateResult());
        _plans = plans;
    }

    public PlanResult Plan(in PlanInput input, PlanResult? into = null)
    {
        var start = Stopwatch.GetTimestamp();
        var result = into ?? CreateResult();
        if (result.Actions.Length != Options.Horizon * _block * _dim || result.BestCostStorage.Length < 1)
            throw new ArgumentException("result was created by a planner of a different shape", nameof(into));
        var seed = input.Seed ?? SamplingCore.DeriveSeed(Options.Seed, _plans);
        _plans++;
        _rng.Reseed(seed);
        var actions = result.Actions;
        for (var v = 0; v < actions.Length; v++)
        {
            var i = v % _dim;
            // 24 random bits -> [0, 1) -> [-max, max).
            var u = (_rng.NextUInt64() >> 40) * (1f / (1 << 24));
            actions[v] = _search[i] ? (2 * u - 1) * _max[i] : 0f;
        }
        Array.Clear(result.NormalisedMean);
        result.BestCostStorage[0] = float.NaN;
        result.FinalCost = float.NaN;
        result.Iterations = 1;
        result.StoppedByDeadline = false;
        result.Seed = seed;
        var ms = MonotonicClock.TicksToMs(Stopwatch.GetTimestamp() - start);
        result.Timings = new PlanTimings(ms, 0, 0, ms);
        return result;
    }

    public bool TryPredictLatent(ReadOnlySpan<float> latent, PlanResult plan, int blocks, Span<float> predicted) => false;

    public void Dispose() { }
}
