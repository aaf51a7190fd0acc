using System.Diagnostics;
using FsCheck;
using FsCheck.Fluent;
using RobotCtl.Core.Arm;
using RobotCtl.Core.WorldModel;

namespace RobotCtl.Planning.Tests;

/// <summary>The planner on the LeWM-shaped analytic model (object position latent, linear predictor, mse).</summary>
public class PlannerTests
{
    // Non-trivial dataset statistics so that normalisation matters; rotations are not searched.
    private static readonly float[] Mean = [0.002f, -0.001f, 0f, 0f, 0f, 0f, 0.1f];
    private static readonly float[] Std = [0.01f, 0.01f, 0.01f, 0.1f, 0.1f, 0.1f, 0.5f];
    private static readonly bool[] Search = [true, true, true, false, false, false, true];
    private static readonly ActionBounds Limits = new([0.01f, 0.01f, 0.01f, 0.05f, 0.05f, 0.05f, 0.5f]);

    private static ObjectPushModel Model(int history = 3, float momentum = 0f) =>
        new(Analytic.Spec("object-push", [2], block: 5, history, Mean, Std, Search), momentum: momentum);

    private static float[] Encode(IWorldModel model, int x, int y)
    {
        var z = new float[2];
        model.Encode(Analytic.ObjectImage(x, y), 1, z);
        return z;
    }

    /// <summary>Where the object ends up after the chunk, by the model's own dynamics (z + gain * sum of dx, dy).</summary>
    private static (double X, double Y) FinalPosition(ObjectPushModel model, float[] start, PlanResult plan)
    {
        double x = start[0], y = start[1];
        for (var s = 0; s < plan.Steps; s++) { x += model.Gain * plan.Action(s)[0]; y += model.Gain * plan.Action(s)[1]; }
        return (x, y);
    }

    [Fact]
    public void EncoderReadsTheObjectPosition()
    {
        var z = Encode(Model(), 8, 21);
        Assert.Equal(8f, z[0], 1e-4f);
        Assert.Equal(21f, z[1], 1e-4f);
    }

    [Fact]
    public void LeWMBudgetPlanMovesTheObjectOntoTheGoal()
    {
        var model = Model();
        using var planner = new LatentPlanner(model, new PlannerOptions(), Limits);
        var start = Encode(model, 8, 10);
        planner.SetGoal(Encode(model, 20, 16));
        var plan = planner.Plan(new PlanInput(start));

        var (x, y) = FinalPosition(model, start, plan);
        // Robust across seeds (checked on 20): within 0.015 px, cost below 2e-4 px^2.
        Assert.Equal(20, x, 0.05);
        Assert.Equal(16, y, 0.05);
        Assert.True(plan.FinalCost < 1e-3f, $"final cost {plan.FinalCost}");
        Assert.Equal(30, plan.Iterations);
        Assert.Equal(25, plan.Steps);
        Assert.Equal(plan.BestCostPerIteration.ToArray().Min(), plan.FinalCost);
        var costs = plan.BestCostPerIteration.ToArray();
        for (var i = 1; i < costs.Length; i++) Assert.True(costs[i] <= costs[i - 1], $"iteration {i}: {costs[i]} > {costs[i - 1]}");
        Assert.True(costs[^1] < costs[0] / 100, "the search made progress");
    }

    [Fact]
    public void TheAuthorsCemExecutesTheFinalMeanWithoutElitismAndStillReachesTheGoal()
    {
        // stable-worldmodel's CEMSolver: the chunk is the final elite mean, no elite is carried over between iterations.
        var model = Model();
        var options = new PlannerOptions { Execute = PlanExecute.Mean, Elitism = false, Seed = 3 };
        using var planner = new LatentPlanner(model, options, Limits);
        var start = Encode(model, 8, 10);
        planner.SetGoal(Encode(model, 20, 16));
        var plan = planner.Plan(new PlanInput(start));

        // The chunk is the de-normalised final mean (within the limits), not the best sample.
        for (var v = 0; v < plan.Actions.Length; v++)
        {
            var i = v % 7;
            var expected = Search[i] ? Math.Clamp(plan.NormalisedMean[v] * Std[i] + Mean[i], -Limits.MaxStep[i], Limits.MaxStep[i]) : 0f;
            Assert.Equal(expected, plan.Actions[v], 1e-7f);
        }
        var (x, y) = FinalPosition(model, start, plan);
        Assert.Equal(20, x, 0.1);
        Assert.Equal(16, y, 0.1);

        // With the default (best sample, elitism) the same seed gives another chunk: the option is what changed it.
        using var best = new LatentPlanner(model, options with { Execute = PlanExecute.Best }, Limits);
        best.SetGoal(Encode(model, 20, 16));
        Assert.NotEqual(plan.Actions, best.Plan(new PlanInput(start)).Actions);
    }

    [Fact]
    public void VJepaStyleCemDrawsEverySampleWithPerDimensionSpreadAndStartsEachPlanFromZero()
    {
        // V-JEPA 2-AC's cem: initial std per dimension, no mean sample, no warm start.
        var model = Model();
        var seen = new List<float[]>();
        float[] perDim = [0.5f, 2f, 1f, 1f, 1f, 1f, 0.25f];
        var options = new PlannerOptions
        {
            Samples = 2000, TopK = 10, Iterations = 1, Horizon = 1, InitStdPerDim = perDim, MeanSample = false, WarmStart = false, Seed = 5,
        };
        using var planner = new LatentPlanner(new RecordingModel(model, seen), options, ActionBounds.Unbounded(7));
        planner.SetGoal(Encode(model, 20, 16));
        var start = Encode(model, 8, 10);
        planner.Plan(new PlanInput(start));

        // The first (only) iteration's candidates, as the predictor saw them: std per dimension as given, none equal to the mean.
        var actions = seen[0];
        var width = 5 * 7;
        Assert.Equal(2000 * width, actions.Length);
        for (var i = 0; i < 7; i++)
        {
            if (!Search[i]) continue;
            var values = Enumerable.Range(0, 2000).SelectMany(b => Enumerable.Range(0, 5).Select(a => (double)actions[b * width + a * 7 + i])).ToArray();
            var mean = values.Average();
            var std = Math.Sqrt(values.Select(v => (v - mean) * (v - mean)).Average());
            Assert.Equal(perDim[i], std, perDim[i] * 0.05);
        }
        Assert.NotEqual(0f, actions.AsSpan(0, width).ToArray().Select(MathF.Abs).Max()); // sample 0 is drawn, not the zero mean

        // No warm start: a plan with no iteration left (zero deadline) returns the zero mean, not the previous plan's.
        using var cold = new LatentPlanner(model, options with { Deadline = TimeSpan.Zero, Iterations = 5, Samples = 50 }, Limits);
        cold.SetGoal(Encode(model, 20, 16));
        cold.Plan(new PlanInput(start) { Seed = 1, DeadlineTicks = long.MaxValue });
        var second = cold.Plan(new PlanInput(start) { BlocksExecuted = 0 });
        Assert.Equal(0, second.Iterations);
        Assert.All(second.NormalisedMean, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void MppiAlsoReachesTheGoal()
    {
        var model = Model();
        var options = new PlannerOptions { Solver = SolverKind.Mppi, Samples = 256, TopK = 32, Iterations = 20, MinStd = 0.05f, MaxStd = 2f };
        using var planner = new LatentPlanner(model, options, Limits);
        var start = Encode(model, 8, 10);
        planner.SetGoal(Encode(model, 20, 16));
        var (x, y) = FinalPosition(model, start, planner.Plan(new PlanInput(start)));
        Assert.Equal(20, x, 0.5);
        Assert.Equal(16, y, 0.5);
    }

    [Fact]
    public void AGoalBeyondTheLimitsIsApproachedAtFullStepWithoutExceedingThem()
    {
        var model = Model();
        using var planner = new LatentPlanner(model, new PlannerOptions { Iterations = 20 }, Limits);
        var start = Encode(model, 2, 16);
        planner.SetGoal(Encode(model, 30, 16)); // 28 px = 0.28 m but 25 steps x 0.01 m = 0.25 m at most
        var plan = planner.Plan(new PlanInput(start));
        for (var s = 0; s < plan.Steps; s++) Assert.InRange(plan.Action(s)[0], -0.01f, 0.01f);
        Assert.True(FinalPosition(model, start, plan).X > 26.5, "pushed nearly the whole way at the limit");
    }

    [Fact]
    public void HeldDimensionsArePhysicalZeroInEveryScoredCandidateAndInThePlan()
    {
        var model = Model();
        var seen = new List<float[]>();
        using var planner = new LatentPlanner(new RecordingModel(model, seen), new PlannerOptions { Samples = 32, TopK = 4, Iterations = 4 }, Limits);
        var start = Encode(model, 8, 10);
        planner.SetGoal(Encode(model, 12, 12));
        var plan = planner.Plan(new PlanInput(start));
        foreach (var actions in seen)
            for (var v = 0; v < actions.Length; v++)
                if (!Search[v % 7]) Assert.Equal(-Mean[v % 7] / Std[v % 7], actions[v]);
        for (var s = 0; s < plan.Steps; s++)
            for (var i = 3; i < 6; i++) Assert.Equal(0f, plan.Action(s)[i]);
    }

    [Fact]
    public void NoCandidateOutsideTheLimitsIsEverScoredOrReturned()
    {
        // Property: for any action statistics, per-step limits, searched dimensions, dead-band and seed, every action
        // the model is asked to score lies in the normalised box and every returned action within +-MaxStep.
        var cases =
            from mean in Gen.ArrayOf(Gen.Choose(-50, 50).Select(v => v / 1000f), 7)
            from std in Gen.ArrayOf(Gen.Choose(1, 300).Select(v => v / 1000f), 7)
            from max in Gen.ArrayOf(Gen.Choose(0, 100).Select(v => v / 1000f), 7)
            from search in Gen.ArrayOf(Gen.Elements(true, false), 7)
            from deadband in Gen.Elements(0f, 0.01f, 0.05f)
            from seed in Gen.Choose(0, int.MaxValue)
            select (mean, std, max, search, deadband, seed);
        var property = Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var spec = Analytic.Spec("clip", [2], block: 2, history: 2, c.mean, c.std, c.search);
            var seen = new List<float[]>();
            var options = new PlannerOptions { Samples = 16, TopK = 4, Iterations = 3, Horizon = 3, InitStd = 3f, GripperDeadband = c.deadband, Seed = (ulong)c.seed };
            using var planner = new LatentPlanner(new RecordingModel(new ObjectPushModel(spec), seen), options, new ActionBounds(c.max));
            planner.SetGoal([30f, -4f]);
            var plan = planner.Plan(new PlanInput(new float[] { 1f, 2f }));
            foreach (var actions in seen)
                for (var v = 0; v < actions.Length; v++)
                {
                    var i = v % 7;
                    var lo = c.search[i] ? (-c.max[i] - c.mean[i]) / c.std[i] : -c.mean[i] / c.std[i];
                    var hi = c.search[i] ? (c.max[i] - c.mean[i]) / c.std[i] : -c.mean[i] / c.std[i];
                    if (!(actions[v] >= lo && actions[v] <= hi)) return false;
                }
            for (var v = 0; v < plan.Actions.Length; v++)
            {
                var i = v % 7;
                var a = plan.Actions[v];
                if (!(Math.Abs(a) <= c.max[i]) || (!c.search[i] && a != 0f)) return false;
                if (i == 6 && c.search[6] && a != 0f && Math.Abs(a) < c.deadband) return false;
            }
            return true;
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(60), property);
    }

    [Fact]
    public void SameSeedAndInputsGiveBitIdenticalPlansAndTheResultNamesItsSeed()
    {
        PlanResult Run(ulong? seed)
        {
            var model = Model();
            using var planner = new LatentPlanner(model, new PlannerOptions { Iterations = 8, Seed = 99 }, Limits);
            planner.SetGoal(Encode(model, 20, 16));
            return planner.Plan(new PlanInput(Encode(model, 8, 10)) { Seed = seed });
        }

        var a = Run(null);
        var b = Run(null);
        var replay = Run(a.Seed);
        var other = Run(a.Seed + 1);
        static int[] Bits(PlanResult r) => r.Actions.Concat(r.NormalisedMean).Concat(r.BestCostPerIteration.ToArray()).Select(BitConverter.SingleToInt32Bits).ToArray();
        Assert.Equal(Bits(a), Bits(b));
        Assert.Equal(Bits(a), Bits(replay));
        Assert.NotEqual(Bits(a), Bits(other));
    }

    [Fact]
    public void ZeroDeadlineReturnsTheWarmStartWithZeroIterations()
    {
        var model = Model();
        using var planner = new LatentPlanner(model, new PlannerOptions { Iterations = 10, Deadline = TimeSpan.Zero }, Limits);
        planner.SetGoal(Encode(model, 20, 16));
        var first = planner.Plan(new PlanInput(Encode(model, 8, 10)));
        Assert.Equal(0, first.Iterations);
        Assert.True(first.StoppedByDeadline);
        Assert.True(float.IsNaN(first.FinalCost));
        // First plan: normalised zero, i.e. the dataset's mean action, held dimensions at physical zero.
        for (var s = 0; s < first.Steps; s++)
            for (var i = 0; i < 7; i++) Assert.Equal(Search[i] ? Mean[i] : 0f, first.Action(s)[i], 1e-7f);
    }

    [Fact]
    public void WarmStartIsThePreviousMeanShiftedByTheExecutedBlocksPaddedWithZeros()
    {
        var model = Model();
        using var planner = new LatentPlanner(model, new PlannerOptions { Iterations = 10 }, Limits);
        planner.SetGoal(Encode(model, 20, 16));
        var first = planner.Plan(new PlanInput(Encode(model, 8, 10)));
        // A deadline already past: the plan is the warm start itself.
        var second = planner.Plan(new PlanInput(Encode(model, 10, 11)) { BlocksExecuted = 2, DeadlineTicks = 0 });
        Assert.Equal(0, second.Iterations);
        var block = 35;
        for (var v = 0; v < 3 * block; v++) Assert.Equal(first.NormalisedMean[2 * block + v], second.NormalisedMean[v], 1e-6f);
        for (var v = 3 * block; v < 5 * block; v++)
            Assert.Equal(planner.Space.Lower[v] == planner.Space.Upper[v] ? planner.Space.Lower[v] : 0f, second.NormalisedMean[v]);

        planner.ResetWarmStart();
        var reset = planner.Plan(new PlanInput(Encode(model, 10, 11)) { DeadlineTicks = 0 });
        for (var v = 0; v < reset.NormalisedMean.Length; v++)
            Assert.Equal(planner.Space.Lower[v] == planner.Space.Upper[v] ? planner.Space.Lower[v] : 0f, reset.NormalisedMean[v]);
    }

    [Fact]
    public void DeadlineStopsBeforeAnIterationThatWouldOverrunIt()
    {
        // A fake clock that the model advances by 10 ms per predictor call: 5 calls = 50 ms per iteration.
        long now = 0;
        var tenMs = Stopwatch.Frequency / 100;
        var model = Model();
        model.OnPredict = () => now += tenMs;
        using var planner = new LatentPlanner(model, new PlannerOptions { Iterations = 30, Deadline = TimeSpan.FromMilliseconds(175) }, Limits, () => now);
        planner.SetGoal(Encode(model, 20, 16));
        var plan = planner.Plan(new PlanInput(Encode(model, 8, 10)));
        // Iterations end at 50, 100, 150 ms; a fourth would end at 200 > 175.
        Assert.Equal(3, plan.Iterations);
        Assert.True(plan.StoppedByDeadline);
        Assert.Equal(150, plan.Timings.TotalMs, 1e-6);
        Assert.Equal(150, plan.Timings.PredictorMs, 1e-6);
        Assert.True(float.IsFinite(plan.FinalCost));
    }

    [Fact]
    public void OneSlowIterationDoesNotStopEveryLaterPlan()
    {
        // A fake clock the model advances by 10 ms per predictor call (50 ms per iteration), except for one stall of a
        // whole second, as when the process is paused. The plan after it is skipped (its estimate says the first
        // iteration would overrun); the one after that must plan again, not inherit the stalled estimate forever.
        long now = 0;
        var tenMs = Stopwatch.Frequency / 100;
        var stall = false;
        var model = Model();
        model.OnPredict = () => now += stall ? Stopwatch.Frequency : tenMs;
        using var planner = new LatentPlanner(model, new PlannerOptions { Iterations = 3, Deadline = TimeSpan.FromMilliseconds(800) }, Limits, () => now);
        planner.SetGoal(Encode(model, 20, 16));
        var start = Encode(model, 8, 10);
        Assert.Equal(3, planner.Plan(new PlanInput(start)).Iterations);
        stall = true;
        Assert.Equal(1, planner.Plan(new PlanInput(start)).Iterations); // the stalled iteration, then the deadline
        stall = false;
        Assert.Equal(0, planner.Plan(new PlanInput(start)).Iterations); // its estimate (5 s) overruns 800 ms
        Assert.Equal(3, planner.Plan(new PlanInput(start)).Iterations);
        Assert.Equal(3, planner.Plan(new PlanInput(start)).Iterations);
    }

    [Fact]
    public void APlanCutShortByTheDeadlineIsReplayedExactlyWithMaxIterations()
    {
        long now = 0;
        var model = Model();
        model.OnPredict = () => now += Stopwatch.Frequency / 100;
        var options = new PlannerOptions { Iterations = 30, Deadline = TimeSpan.FromMilliseconds(175) };
        using var live = new LatentPlanner(model, options, Limits, () => now);
        live.SetGoal(Encode(model, 20, 16));
        var cut = live.Plan(new PlanInput(Encode(model, 8, 10)));
        Assert.True(cut.StoppedByDeadline);

        using var replay = new LatentPlanner(Model(), options with { Deadline = null }, Limits);
        replay.SetGoal(Encode(model, 20, 16));
        var again = replay.Plan(new PlanInput(Encode(model, 8, 10)) { Seed = cut.Seed, MaxIterations = cut.Iterations });
        Assert.Equal(cut.Iterations, again.Iterations);
        Assert.False(again.StoppedByDeadline);
        Assert.Equal(cut.Actions.Select(BitConverter.SingleToInt32Bits), again.Actions.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void PredictedLatentAfterExecutedBlocksFollowsTheModel()
    {
        var model = Model();
        using var planner = new LatentPlanner(model, new PlannerOptions { Iterations = 5 }, Limits);
        var start = Encode(model, 8, 10);
        planner.SetGoal(Encode(model, 20, 16));
        var predicted = new float[2];
        var plan = planner.CreateResult();
        Assert.False(planner.TryPredictLatent(start, plan, 2, predicted)); // no plan yet
        planner.Plan(new PlanInput(start), plan);
        Assert.True(planner.TryPredictLatent(start, plan, 2, predicted));
        double x = start[0], y = start[1];
        for (var s = 0; s < 2 * 5; s++) { x += model.Gain * plan.Action(s)[0]; y += model.Gain * plan.Action(s)[1]; }
        Assert.Equal(x, predicted[0], 1e-3);
        Assert.Equal(y, predicted[1], 1e-3);
        Assert.Throws<ArgumentOutOfRangeException>(() => planner.TryPredictLatent(start, plan, 6, predicted));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AfterWarmUpAPlanAllocatesNothing(bool latentWeights)
    {
        var model = Model();
        using var planner = new LatentPlanner(model, new PlannerOptions { Iterations = 5, LatentWeights = latentWeights ? [2f, 0.5f] : null }, Limits);
        var start = Encode(model, 8, 10);
        planner.SetGoal(Encode(model, 20, 16));
        var input = new PlanInput(start);
        planner.WarmUp(input);
        var result = planner.CreateResult();
        planner.Plan(input, result);
        Assert.Equal(0, Allocations.Of(() => planner.Plan(new PlanInput(start) { BlocksExecuted = 1 }, result)));
        Assert.Equal(5, result.Iterations);
    }

    [Fact]
    public void TimingsAccountForThePlan()
    {
        var model = Model();
        using var planner = new LatentPlanner(model, new PlannerOptions { Iterations = 5 }, Limits);
        planner.SetGoal(Encode(model, 20, 16));
        var t = planner.Plan(new PlanInput(Encode(model, 8, 10))).Timings;
        Assert.True(t.TotalMs > 0 && t.PredictorMs > 0 && t.SolverMs > 0 && t.RolloutMs > 0);
        Assert.True(t.PredictorMs + t.RolloutMs + t.SolverMs <= t.TotalMs + 1e-9);
    }

    [Fact]
    public void BadInputsAreRefusedWithWhatWasExpected()
    {
        var model = Model();
        using var planner = new LatentPlanner(model, new PlannerOptions { Iterations = 2 }, Limits);
        Assert.Contains("no goal", Assert.Throws<InvalidOperationException>(() => planner.Plan(new PlanInput(new float[2]))).Message);
        Assert.Contains("expected 2 values, found 3", Assert.Throws<ArgumentException>(() => planner.SetGoal(new float[3])).Message);
        planner.SetGoal(new float[2]);
        Assert.Contains("expected 1..3 frames of 2 values, found 7", Assert.Throws<ArgumentException>(() => planner.Plan(new PlanInput(new float[7]))).Message);
        Assert.Contains("value 1 is NaN", Assert.Throws<ArgumentException>(() => planner.Plan(new PlanInput([1f, float.NaN]))).Message);
        Assert.Contains("expected 1 blocks of 35 values", Assert.Throws<ArgumentException>(() => planner.Plan(new PlanInput(new float[4]))).Message);
        Assert.Contains("CostShape: expected 5 weights", Assert.Throws<ArgumentException>(() => new LatentPlanner(model, new PlannerOptions { CostShape = CostShape.FromWeights([1f]) })).Message);
        Assert.Contains("expected 7 per-step limits", Assert.Throws<ArgumentException>(() => new LatentPlanner(model, new PlannerOptions(), new ActionBounds([1f]))).Message);
    }

    [Fact]
    public void AModelThatOnlyProducesNaNIsRefused()
    {
        var spec = Analytic.Spec("nan", [2], block: 5, history: 3, Mean, Std, Search);
        using var planner = new LatentPlanner(new NaNModel(spec), new PlannerOptions { Samples = 8, TopK = 2, Iterations = 2 }, Limits);
        planner.SetGoal([1f, 1f]);
        var e = Assert.Throws<WorldModelException>(() => planner.Plan(new PlanInput([0f, 0f])));
        Assert.Contains("non-finite", e.Message);
    }

    [Fact]
    public void LimitsComeFromCalibrationThroughTheActionMapping()
    {
        var limits = new SafetyLimits { MaxStep = [0.01f, 0.02f, 0.03f, 0.1f, 0.2f, 0.3f, 0.5f], WorkspaceMin = [0, 0, 0], WorkspaceMax = [1, 1, 1] };
        var mapping = new ActionMapping { AxisOrder = [1, 0, 2, 3, 4, 5, 6], Sign = [-1, 1, 1, 1, 1, 1, 1], Scale = [2, 1, 1, 1, 1, 1, 1] };
        var bounds = ActionBounds.FromLimits(limits, mapping);
        // robot x = -2 * model y: model y may move 0.01 / 2; robot y = model x: model x may move 0.02.
        Assert.Equal([0.02f, 0.005f, 0.03f, 0.1f, 0.2f, 0.3f, 0.5f], bounds.MaxStep);
    }

    /// <summary>Records the normalised actions of every predictor call (a copy), then delegates.</summary>
    private sealed class RecordingModel(IWorldModel inner, List<float[]> seen) : IWorldModel
    {
        public WorldModelSpec Spec => inner.Spec;
        public void Encode(ReadOnlySpan<float> pixels, int batch, Span<float> latents) => inner.Encode(pixels, batch, latents);
        public PredictorBuffers CreatePredictorBuffers(int batch, int time) => inner.CreatePredictorBuffers(batch, time);
        public void Predict(PredictorBuffers buffers) { seen.Add(buffers.Actions.ToArray()); inner.Predict(buffers); }
        public void Dispose() => inner.Dispose();
    }

    private sealed class NaNModel(WorldModelSpec spec) : IWorldModel
    {
        public WorldModelSpec Spec { get; } = spec;
        public void Encode(ReadOnlySpan<float> pixels, int batch, Span<float> latents) => latents.Fill(float.NaN);
        public PredictorBuffers CreatePredictorBuffers(int batch, int time) => new ArrayPredictorBuffers(batch, time, 2, 35, 0);
        public void Predict(PredictorBuffers buffers) => buffers.NextLatents.Fill(float.NaN);
        public void Dispose() { }
    }
}
