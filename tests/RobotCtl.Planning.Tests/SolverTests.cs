using RobotCtl.Planning.Solvers;

namespace RobotCtl.Planning.Tests;

/// <summary>Solvers against analytic costs: they see only (candidates -> costs).</summary>
public class SolverTests
{
    /// <summary>Sum of squared distances to a target; records every candidate it scored.</summary>
    private sealed class SphereCost(float[] target) : ITrajectoryCost
    {
        public List<float[]> Scored { get; } = [];
        public List<float[]> Costs { get; } = [];
        public bool Record { get; init; }
        public Func<int, float, float>? Distort { get; init; }

        public void Evaluate(ReadOnlySpan<float> candidates, Span<float> costs)
        {
            var d = target.Length;
            for (var r = 0; r < costs.Length; r++)
            {
                float c = 0;
                for (var i = 0; i < d; i++) { var e = candidates[r * d + i] - target[i]; c += e * e; }
                costs[r] = Distort?.Invoke(r, c) ?? c;
            }
            if (Record) { Scored.Add(candidates.ToArray()); Costs.Add(costs.ToArray()); }
        }
    }

    private static readonly float[] Target = [0.5f, -1.2f, 2f, 0.3f, -0.7f, 1.1f];

    private static SolveResult Solve(PopulationSolver solver, ITrajectoryCost cost, ulong seed = 1, float[]? init = null)
    {
        var result = solver.CreateResult();
        solver.Solve(cost, init ?? new float[solver.Dimension], seed, long.MaxValue, result);
        return result;
    }

    [Fact]
    public void CemFindsTheMinimumOfAQuadratic()
    {
        var r = Solve(new CemSolver(new SolverSettings { Samples = 200, TopK = 20, Iterations = 30 }, SearchSpace.Unbounded(6)), new SphereCost(Target));
        for (var i = 0; i < 6; i++) Assert.Equal(Target[i], r.Best[i], 0.02f);
        Assert.True(r.BestCost < 1e-3f, $"cost {r.BestCost}");
        Assert.Equal(30, r.Iterations);
    }

    [Fact]
    public void MppiFindsTheMinimumAndKeepsStdInsideItsClamp()
    {
        var settings = new SolverSettings { Samples = 256, TopK = 32, Iterations = 20, MinStd = 0.05f, MaxStd = 2f, InitStd = 3f };
        var r = Solve(new MppiSolver(settings, SearchSpace.Unbounded(6)), new SphereCost(Target));
        for (var i = 0; i < 6; i++) Assert.Equal(Target[i], r.Best[i], 0.1f);
        Assert.All(r.Std, s => Assert.InRange(s, 0.05f, 2f));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void WithElitismTheBestCostPerIterationNeverRises(bool mppi)
    {
        var settings = new SolverSettings { Samples = 20, TopK = 5, Iterations = 40 };
        PopulationSolver solver = mppi ? new MppiSolver(settings, SearchSpace.Unbounded(6)) : new CemSolver(settings, SearchSpace.Unbounded(6));
        for (ulong seed = 0; seed < 20; seed++)
        {
            var costs = Solve(solver, new SphereCost(Target), seed).BestCostPerIteration.ToArray();
            for (var i = 1; i < costs.Length; i++) Assert.True(costs[i] <= costs[i - 1], $"seed {seed}: iteration {i} cost {costs[i]} > {costs[i - 1]}");
        }
    }

    [Fact]
    public void SampleZeroIsTheMeanAndSampleOneTheBestSoFar()
    {
        var cost = new SphereCost(Target) { Record = true };
        var init = new float[] { 1, 2, 3, 4, 5, 6 };
        var r = Solve(new CemSolver(new SolverSettings { Samples = 10, TopK = 3, Iterations = 3 }, SearchSpace.Unbounded(6)), cost, init: init);
        Assert.Equal(init, cost.Scored[0][..6]);
        for (var it = 1; it < 3; it++)
        {
            var previous = cost.Scored[it - 1];
            var bestRow = Enumerable.Range(0, 10).MinBy(row => cost.Costs[it - 1][row]);
            Assert.Equal(previous.AsSpan(bestRow * 6, 6).ToArray(), cost.Scored[it].AsSpan(6, 6).ToArray());
        }
        Assert.Equal(cost.Costs.SelectMany(c => c).Min(), r.BestCost);
    }

    [Fact]
    public void CemRefitIsTheElitesMeanAndUnbiasedStdBlendedByMomentum()
    {
        var cost = new SphereCost(Target) { Record = true };
        var settings = new SolverSettings { Samples = 12, TopK = 4, Iterations = 1, MeanMomentum = 0.25f, StdMomentum = 0.5f, InitStd = 1.5f };
        var init = new float[] { 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f };
        var r = Solve(new CemSolver(settings, SearchSpace.Unbounded(6)), cost, init: init);
        var elites = Enumerable.Range(0, 12).OrderBy(row => cost.Costs[0][row]).ThenBy(row => row).Take(4)
            .Select(row => cost.Scored[0].AsSpan(row * 6, 6).ToArray()).ToArray();
        for (var i = 0; i < 6; i++)
        {
            var m = elites.Average(e => (double)e[i]);
            var s = Math.Sqrt(elites.Sum(e => (e[i] - m) * (e[i] - m)) / 3);
            Assert.Equal(0.25 * init[i] + 0.75 * m, r.Mean[i], 1e-5);
            Assert.Equal(0.5 * 1.5 + 0.5 * s, r.Std[i], 1e-5);
        }
    }

    [Fact]
    public void NaNCostsAreNeverElites()
    {
        // Even rows "fail" (NaN): the best and the refit must come from odd rows only.
        var cost = new SphereCost(Target) { Record = true, Distort = (row, c) => row % 2 == 0 ? float.NaN : c };
        var r = Solve(new CemSolver(new SolverSettings { Samples = 30, TopK = 5, Iterations = 5 }, SearchSpace.Unbounded(6)), cost);
        Assert.True(float.IsFinite(r.BestCost));
        Assert.All(r.BestCostPerIteration.ToArray(), c => Assert.True(float.IsFinite(c)));
    }

    [Fact]
    public void HeldVariablesAndDeadZonesShapeEveryCandidate()
    {
        var lower = new float[] { -1, 0.25f, -1, -2, -1, -1 };
        var upper = new float[] { 1, 0.25f, 1, 2, 1, 1 };
        var space = new SearchSpace(lower, upper, [new DeadZone(3, -0.5f, 0.5f, 0f)]);
        var cost = new SphereCost(Target) { Record = true };
        var r = Solve(new CemSolver(new SolverSettings { Samples = 50, TopK = 5, Iterations = 10, InitStd = 2f }, space), cost);
        foreach (var batch in cost.Scored)
            for (var row = 0; row < 50; row++)
            {
                var c = batch.AsSpan(row * 6, 6);
                for (var i = 0; i < 6; i++) Assert.InRange(c[i], lower[i], upper[i]);
                Assert.Equal(0.25f, c[1]);
                Assert.True(c[3] == 0f || Math.Abs(c[3]) >= 0.5f, $"dead zone value {c[3]}");
            }
        Assert.Equal(0f, r.Std[1]);
    }

    [Fact]
    public void DeadlineAlreadyPassedReturnsTheProjectedInitialMeanWithoutScoring()
    {
        var space = new SearchSpace([-1, -1], [1, 1]);
        var solver = new CemSolver(new SolverSettings { Samples = 4, TopK = 2, Iterations = 5 }, space);
        var cost = new SphereCost([0, 0]) { Record = true };
        var result = solver.CreateResult();
        solver.Solve(cost, [3f, -0.5f], 1, deadlineTicks: 0, result);
        Assert.Equal(0, result.Iterations);
        Assert.True(result.StoppedByDeadline);
        Assert.True(float.IsNaN(result.BestCost));
        Assert.Equal([1f, -0.5f], result.Best);
        Assert.Empty(cost.Scored);
    }

    [Fact]
    public void SettingsAreValidatedWithTheFieldName()
    {
        var e = Assert.Throws<ArgumentException>(() => new CemSolver(new SolverSettings { Samples = 10, TopK = 11 }, SearchSpace.Unbounded(2)));
        Assert.Contains("TopK", e.Message);
        Assert.Contains("11", e.Message);
    }
}
