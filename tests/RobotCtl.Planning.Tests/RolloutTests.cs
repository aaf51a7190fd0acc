using RobotCtl.Core.WorldModel;
using RobotCtl.Planning.Rollout;
using RobotCtl.Planning.Solvers;

namespace RobotCtl.Planning.Tests;

/// <summary>The batched rollout against a plain one-sample-at-a-time reference, on a model that reads its whole window.</summary>
public class RolloutTests
{
    private static readonly float[] Mean = [0.001f, 0.002f, 0, 0, 0, 0, 0];
    private static readonly float[] Std = [0.02f, 0.03f, 1, 1, 1, 1, 1];
    private static readonly bool[] Search = [true, true, true, true, true, true, true];
    private const int Samples = 6, Horizon = 4, Block = 2;

    private static (ObjectPushModel Model, WorldModelRolloutCost Cost, ActionCodec Codec) Create(float[]? weights = null)
    {
        var model = new ObjectPushModel(Analytic.Spec("window", [2], Block, history: 3, Mean, Std, Search), gain: 50f, momentum: 0.5f);
        var codec = new ActionCodec(model.Spec, ActionBounds.Unbounded(7), 0f);
        var cost = new WorldModelRolloutCost(model, codec, Samples, Horizon, LatentCost.Mse, weights, System.Diagnostics.Stopwatch.GetTimestamp);
        return (model, cost, codec);
    }

    private static float[] RandomCandidates(int seed)
    {
        var c = new float[Samples * Horizon * Block * 7];
        new Xoshiro256StarStar((ulong)seed).FillStandardNormal(c);
        return c;
    }

    /// <summary>Each sample on its own: a growing list of frames, a window of the last History, batch 1.</summary>
    private static float[] ReferenceCosts(IWorldModel model, float[] context, float[] pastNormalised, float[] candidates, float[] goal, float[] weights)
    {
        var a = Block * 7;
        var f = context.Length / 2;
        var costs = new float[Samples];
        for (var b = 0; b < Samples; b++)
        {
            var frames = Enumerable.Range(0, f).Select(j => context[(j * 2)..(j * 2 + 2)]).ToList();
            for (var k = 0; k < Horizon; k++)
            {
                var n = frames.Count;
                var t = Math.Min(n, 3);
                using var buffers = new ArrayPredictorBuffers(1, t, 2, a, 0);
                for (var p = 0; p < t; p++)
                {
                    var j = n - t + p;
                    frames[j].CopyTo(buffers.Latents.Slice(p * 2, 2));
                    var action = j < f - 1 ? pastNormalised.AsSpan(j * a, a) : candidates.AsSpan((b * Horizon + j - f + 1) * a, a);
                    action.CopyTo(buffers.Actions.Slice(p * a, a));
                }
                model.Predict(buffers);
                frames.Add(buffers.NextLatents.Slice((t - 1) * 2, 2).ToArray());
                var dx = frames[^1][0] - goal[0];
                var dy = frames[^1][1] - goal[1];
                costs[b] += weights[k] * (dx * dx + dy * dy);
            }
        }
        return costs;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void BatchedRolloutMatchesTheOneSampleReference(int contextFrames)
    {
        float[] weights = [0.25f, 0f, 0.5f, 1f];
        var (model, cost, codec) = Create(weights);
        float[] goal = [12f, -3f];
        var context = Enumerable.Range(0, contextFrames * 2).Select(i => 0.5f * i - 1f).ToArray();
        var past = Enumerable.Range(0, (contextFrames - 1) * Block * 7).Select(i => 0.001f * (i % 5)).ToArray();
        var pastNormalised = new float[past.Length];
        codec.Normalise(past, pastNormalised);
        var candidates = RandomCandidates(contextFrames);

        cost.SetGoal(goal);
        cost.SetContext(context, past, []);
        var costs = new float[Samples];
        model.RecordCalls = true;
        cost.Evaluate(candidates, costs);

        var expected = ReferenceCosts(model, context, pastNormalised, candidates, goal, weights);
        for (var b = 0; b < Samples; b++) Assert.Equal(expected[b], costs[b], expected[b] * 1e-5f + 1e-5f);
        // One predictor call per horizon step for all samples; the window grows to History then slides.
        var windows = Enumerable.Range(0, Horizon).Select(k => Math.Min(contextFrames + k, 3)).ToArray();
        Assert.Equal(windows, model.CallWindows.Take(Horizon));
        Assert.Equal(Horizon, cost.PredictorCalls);
    }

    [Fact]
    public void ScoreGivesTheReferenceCostsAndFinalLatentsOfGivenCandidatesWithNormalisedPastActions()
    {
        // model score's path: the planner's own rollout and cost, candidates and executed blocks given in normalised units.
        var spec = Analytic.Spec("score", [2], Block, history: 3, Mean, Std, Search);
        var model = new ObjectPushModel(spec, gain: 50f, momentum: 0.5f);
        var options = PlannerOptions.ForModel(spec) with { Samples = Samples, TopK = 1, Iterations = 1, Horizon = Horizon, CostShape = CostShape.Last };
        using var planner = new LatentPlanner(model, options);
        float[] goal = [12f, -3f];
        float[] context = [-1f, 0.5f, 0f, 1.5f, 1f, 2f];
        var pastNormalised = Enumerable.Range(0, 2 * Block * 7).Select(i => 0.3f * MathF.Sin(i)).ToArray();
        var candidates = RandomCandidates(7);
        planner.SetGoal(goal);

        var costs = new float[Samples];
        var finals = new float[Samples * 2];
        planner.Score(new PlanInput(context) { PastActions = pastNormalised, PastActionsNormalised = true }, candidates, costs, finals);

        var expected = ReferenceCosts(model, context, pastNormalised, candidates, goal, [0f, 0f, 0f, 1f]);
        for (var b = 0; b < Samples; b++) Assert.Equal(expected[b], costs[b], expected[b] * 1e-5f + 1e-5f);
        // The last step's cost is the squared distance of the final latent to the goal.
        for (var b = 0; b < Samples; b++)
        {
            var dx = finals[b * 2] - goal[0];
            var dy = finals[b * 2 + 1] - goal[1];
            Assert.Equal(dx * dx + dy * dy, costs[b], costs[b] * 1e-6f + 1e-6f);
        }
    }

    [Fact]
    public void BuffersAreCreatedOncePerWindowLengthAndReused()
    {
        var spec = Analytic.Spec("count", [2], Block, history: 3, Mean, Std, Search);
        var model = new CountingModel(new ObjectPushModel(spec));
        var codec = new ActionCodec(spec, ActionBounds.Unbounded(7), 0f);
        using var cost = new WorldModelRolloutCost(model, codec, Samples, Horizon, LatentCost.Mse, null, System.Diagnostics.Stopwatch.GetTimestamp);
        cost.SetGoal([0f, 0f]);
        cost.SetContext([1f, 1f], [], []);
        var costs = new float[Samples];
        for (var i = 0; i < 5; i++) cost.Evaluate(RandomCandidates(i), costs);
        Assert.Equal([(Samples, 1), (Samples, 2), (Samples, 3)], model.Created);
    }

    private sealed class CountingModel(IWorldModel inner) : IWorldModel
    {
        public List<(int Batch, int Time)> Created { get; } = [];
        public WorldModelSpec Spec => inner.Spec;
        public void Encode(ReadOnlySpan<float> pixels, int batch, Span<float> latents) => inner.Encode(pixels, batch, latents);
        public PredictorBuffers CreatePredictorBuffers(int batch, int time) { Created.Add((batch, time)); return inner.CreatePredictorBuffers(batch, time); }
        public void Predict(PredictorBuffers buffers) => inner.Predict(buffers);
        public void Dispose() => inner.Dispose();
    }
}
