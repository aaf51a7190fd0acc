using System.Diagnostics;
using System.Numerics.Tensors;

namespace RobotCtl.Planning.Solvers;

/// <summary>
/// Sampling-based trajectory optimisation over a <see cref="SearchSpace"/>: each iteration draws Samples candidates
/// from N(mean, std), forces sample 0 to the current mean (and, with elitism, sample 1 to the best so far),
/// projects them into the space, scores them with an <see cref="ITrajectoryCost"/>, keeps the TopK lowest and
/// refits mean and std from them (the refit rule is the subclass's). Before each iteration it checks the deadline
/// against the longest iteration measured so far and stops rather than overrun.
/// All buffers are allocated in the constructor: an iteration allocates nothing. Single-threaded, so the same
/// seed and costs give bit-identical results.
/// </summary>
public abstract class PopulationSolver
{
    private readonly Func<long> _clock;
    private readonly Xoshiro256StarStar _rng = new(0);
    private readonly float[] _candidates, _noise, _costs, _elites, _eliteCosts, _mean, _std, _best, _scratch, _refitMean, _refitStd;
    private readonly int[] _eliteRows;
    private long _iterationEstimateTicks;

    protected PopulationSolver(SolverSettings settings, SearchSpace space, Func<long>? clock = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(space);
        settings.Validate();
        Settings = settings; Space = space;
        _clock = clock ?? Stopwatch.GetTimestamp;
        var d = space.Dimension;
        _candidates = new float[settings.Samples * d];
        _noise = new float[settings.Samples * d];
        _costs = new float[settings.Samples];
        _elites = new float[settings.TopK * d];
        _eliteCosts = new float[settings.TopK];
        _eliteRows = new int[settings.TopK];
        _mean = new float[d]; _std = new float[d]; _best = new float[d]; _scratch = new float[d];
        _refitMean = new float[d]; _refitStd = new float[d];
    }

    public SolverSettings Settings { get; }
    public SearchSpace Space { get; }
    public int Dimension => Space.Dimension;

    public SolveResult CreateResult() => new(Dimension, Settings.Iterations);

    /// <summary>
    /// Minimises <paramref name="cost"/> starting from <paramref name="initialMean"/> (projected into the space) with
    /// std InitStd. <paramref name="deadlineTicks"/> is an absolute Stopwatch timestamp (long.MaxValue: none); an
    /// iteration starts only if the longest one measured so far (the previous solve's last one at first) still fits.
    /// <paramref name="maxIterations"/> caps Settings.Iterations (warm-up).
    /// </summary>
    public void Solve(ITrajectoryCost cost, ReadOnlySpan<float> initialMean, ulong seed, long deadlineTicks, SolveResult result,
        int maxIterations = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(cost);
        ArgumentNullException.ThrowIfNull(result);
        var d = Dimension;
        if (initialMean.Length != d) throw new ArgumentException($"initial mean: expected {d} values, found {initialMean.Length}", nameof(initialMean));
        if (result.Best.Length != d || result.BestCostStorage.Length < Settings.Iterations)
            throw new ArgumentException("result was created for a different solver shape", nameof(result));

        _rng.Reseed(seed);
        initialMean.CopyTo(_mean);
        Space.Project(_mean);
        var initStd = Settings.InitStdPerVariable;
        for (var i = 0; i < d; i++) _std[i] = Space.IsHeld(i) ? 0f : initStd?[i] ?? Settings.InitStd;
        _mean.CopyTo(_best);
        var bestCost = float.PositiveInfinity;
        var k = Settings.TopK;
        long solverTicks = 0, costTicks = 0, longestIteration = 0, lastIteration = 0;
        var iterations = 0;
        var stopped = false;

        var limit = Math.Min(Settings.Iterations, maxIterations);
        for (var it = 0; it < limit; it++)
        {
            var t0 = _clock();
            var estimate = iterations > 0 ? longestIteration : _iterationEstimateTicks;
            if (deadlineTicks != long.MaxValue && t0 + estimate > deadlineTicks) { stopped = true; break; }

            Sample(it > 0 && Settings.Elitism && float.IsFinite(bestCost));
            var t1 = _clock();
            cost.Evaluate(_candidates, _costs);
            var t2 = _clock();

            SelectElites();
            var iterationBest = _costs[_eliteRows[0]];
            result.BestCostStorage[it] = iterationBest;
            if (iterationBest < bestCost)
            {
                bestCost = iterationBest;
                _candidates.AsSpan(_eliteRows[0] * d, d).CopyTo(_best);
            }
            for (var e = 0; e < k; e++)
            {
                _candidates.AsSpan(_eliteRows[e] * d, d).CopyTo(_elites.AsSpan(e * d, d));
                _eliteCosts[e] = _costs[_eliteRows[e]];
            }

            Refit(_elites, _eliteCosts, _scratch, _refitMean, _refitStd);
            Blend(_mean, _refitMean, Settings.MeanMomentum);
            Blend(_std, _refitStd, Settings.StdMomentum);
            ClampStd();
            var t3 = _clock();

            iterations++;
            solverTicks += (t1 - t0) + (t3 - t2);
            costTicks += t2 - t1;
            lastIteration = t3 - t0;
            longestIteration = Math.Max(longestIteration, lastIteration);
        }

        // The estimate is the last plan's last iteration. A plan that ran none keeps no estimate: one slow iteration (a
        // pause of the whole process) would otherwise predict an overrun for every later plan, and none would ever run
        // again to correct it (a 30-min soak held the arm from step 357 on). The next plan measures afresh.
        _iterationEstimateTicks = iterations > 0 ? lastIteration : 0;
        _best.CopyTo(result.Best);
        _mean.CopyTo(result.Mean);
        _std.CopyTo(result.Std);
        result.BestCost = iterations > 0 ? bestCost : float.NaN;
        result.Iterations = iterations;
        result.StoppedByDeadline = stopped;
        result.SolverTicks = solverTicks;
        result.CostTicks = costTicks;
    }

    /// <summary>
    /// Fits a mean and std (each one row long) to the elite rows laid out [eliteCosts.Length, row], best first.
    /// <paramref name="scratch"/> is one row long. Must not allocate.
    /// </summary>
    protected abstract void Refit(ReadOnlySpan<float> elites, ReadOnlySpan<float> eliteCosts, Span<float> scratch,
        Span<float> mean, Span<float> std);

    /// <summary>Blends a refit into the current value: value = m * value + (1 - m) * refit.</summary>
    private static void Blend(Span<float> value, ReadOnlySpan<float> refit, float momentum)
    {
        if (momentum == 0) { refit.CopyTo(value); return; }
        TensorPrimitives.Multiply(value, momentum, value);
        TensorPrimitives.MultiplyAdd(refit, 1 - momentum, value, value);
    }

    private void Sample(bool injectBest)
    {
        var d = Dimension;
        _rng.FillStandardNormal(_noise);
        for (var row = 0; row < Settings.Samples; row++)
        {
            var candidate = _candidates.AsSpan(row * d, d);
            if (row == 0 && Settings.MeanSample) _mean.CopyTo(candidate);
            else if (row == 1 && injectBest) _best.CopyTo(candidate);
            else TensorPrimitives.FusedMultiplyAdd(_noise.AsSpan(row * d, d), _std, _mean, candidate);
            Space.Project(candidate);
        }
    }

    /// <summary>Indices of the TopK lowest costs, ascending; ties go to the lower index; NaN counts as +infinity.</summary>
    private void SelectElites()
    {
        var k = Settings.TopK;
        var count = 0;
        for (var i = 0; i < _costs.Length; i++)
        {
            var c = _costs[i];
            if (float.IsNaN(c)) _costs[i] = c = float.PositiveInfinity;
            if (count == k && !(c < _costs[_eliteRows[k - 1]])) continue;
            var pos = count < k ? count++ : k - 1;
            while (pos > 0 && c < _costs[_eliteRows[pos - 1]]) { _eliteRows[pos] = _eliteRows[pos - 1]; pos--; }
            _eliteRows[pos] = i;
        }
    }

    private void ClampStd()
    {
        if (Settings.MinStd > 0) TensorPrimitives.Max(_std, Settings.MinStd, _std);
        if (float.IsFinite(Settings.MaxStd)) TensorPrimitives.Min(_std, Settings.MaxStd, _std);
        for (var i = 0; i < _std.Length; i++) if (Space.IsHeld(i)) _std[i] = 0f;
    }
}
