using RobotCtl.Core.Vision;
using RobotCtl.Inference;
using RobotCtl.Inference.WorldModel;
using RobotCtl.Planning;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Runtime.Tests;

/// <summary>
/// The shared-context predictor (models/examples/lewm-small's predictor.shared.onnx) against the plain one, through
/// the planner: the same candidates from the same observed context must cost the same, whichever graph ran them.
/// </summary>
public sealed class SharedContextTests
{
    private static readonly InferenceOptions Cpu = new() { Provider = ExecutionProvider.Cpu, IntraOpThreads = 1, AllowSpinning = false };

    private static string LewmSmall => Path.Combine(RuntimeTestHome.Root, "models", "examples", "lewm-small");

    private static float[] Encode(OnnxWorldModel model, params Frame[] frames)
    {
        using var preprocessor = new Preprocessor(model.Spec.Image);
        var pixels = new float[preprocessor.OutputLength];
        var latents = new float[frames.Length * model.Spec.LatentSize];
        for (var i = 0; i < frames.Length; i++)
        {
            preprocessor.Process(frames[i], pixels);
            model.Encode(pixels, 1, latents.AsSpan(i * model.Spec.LatentSize, model.Spec.LatentSize));
        }
        return latents;
    }

    private static float[] Normals(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Candidates_cost_the_same_through_the_shared_context_graph_as_through_the_plain_predictor(int contextFrames)
    {
        using var model = OnnxWorldModel.Load(LewmSmall, Cpu);
        var spec = model.Spec;
        Assert.True(model.HasSharedContext);
        Assert.NotNull(model.SharedContextError);
        Assert.InRange(model.SharedContextError!.Value, 0, OnnxWorldModel.SharedContextTolerance);

        var frames = new[] { TestScenes.BlockScene(20, 40), TestScenes.BlockScene(26, 38), TestScenes.BlockScene(32, 36) };
        var context = Encode(model, frames[^contextFrames..]);
        var goal = Encode(model, TestScenes.BlockScene(60, 30));
        var pastActions = Normals((contextFrames - 1) * spec.ActionBlockSize, 1);
        const int samples = 48;
        var options = PlannerOptions.ForModel(spec) with { Samples = samples, TopK = 4, Horizon = 5 };
        var candidates = Normals(samples * options.Horizon * spec.ActionBlockSize, 2);

        (float[] Costs, float[] Finals) Score(bool shared, int threads = 1)
        {
            using var planner = new LatentPlanner(model, options with { SharedContext = shared, RolloutThreads = threads });
            Assert.Equal(shared, planner.SharesContext);
            planner.SetGoal(goal);
            var costs = new float[samples];
            var finals = new float[samples * spec.LatentSize];
            planner.Score(new PlanInput(context) { PastActions = pastActions, PastActionsNormalised = true }, candidates, costs, finals);
            return (costs, finals);
        }

        var plain = Score(shared: false);
        var once = Score(shared: true);
        Assert.All(plain.Costs, c => Assert.True(float.IsFinite(c) && c > 0));
        Assert.True(RelativeError(once.Costs, plain.Costs) <= 1e-5, $"costs differ by {RelativeError(once.Costs, plain.Costs):G3} of the largest");
        Assert.True(RelativeError(once.Finals, plain.Finals) <= 1e-5, $"final latents differ by {RelativeError(once.Finals, plain.Finals):G3} of the largest");
        Assert.Equal(Array.IndexOf(plain.Costs, plain.Costs.Min()), Array.IndexOf(once.Costs, once.Costs.Min()));
        // One frame of context shares nothing (its last frame takes the candidate's first block): every step runs the
        // shared graph with an empty context, for the window's last position only, and still costs the same.
        // Candidates split over 3 threads, each shard its own ONNX Runtime call (16 candidates each).
        var sharded = Score(shared: true, threads: 3);
        Assert.True(RelativeError(sharded.Costs, once.Costs) <= 1e-6, $"sharded costs differ by {RelativeError(sharded.Costs, once.Costs):G3}");
        Assert.True(RelativeError(sharded.Finals, once.Finals) <= 1e-6);
    }

    [Fact]
    public void A_plan_through_the_shared_context_graph_allocates_nothing_after_warm_up()
    {
        using var model = OnnxWorldModel.Load(LewmSmall, Cpu);
        var spec = model.Spec;
        var context = Encode(model, TestScenes.BlockScene(20, 40), TestScenes.BlockScene(26, 38), TestScenes.BlockScene(32, 36));
        var pastActions = Normals(2 * spec.ActionBlockSize, 3);
        using var planner = new LatentPlanner(model, PlannerOptions.ForModel(spec) with { Samples = 32, TopK = 4, Iterations = 3, Seed = 1 });
        Assert.True(planner.SharesContext);
        planner.SetGoal(Encode(model, TestScenes.BlockScene(60, 30)));
        var input = new PlanInput(context) { PastActions = pastActions, PastActionsNormalised = true };
        planner.WarmUp(input);
        var result = planner.CreateResult();
        planner.Plan(input, result);
        var before = GC.GetAllocatedBytesForCurrentThread();
        planner.Plan(input, result);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(3, result.Iterations);
        Assert.True(float.IsFinite(result.FinalCost));
    }

    [Fact]
    public void Shared_buffers_fit_within_the_history_and_the_setting_turns_sharing_off()
    {
        using var model = OnnxWorldModel.Load(LewmSmall, Cpu);
        using var planner = new LatentPlanner(model, PlannerOptions.ForModel(model.Spec) with { Samples = 8, TopK = 2, SharedContext = false });
        Assert.False(planner.SharesContext);
        var refused = Assert.Throws<ArgumentOutOfRangeException>(() => model.CreatePredictorBuffers(4, 2, 2));
        Assert.Contains("history (3)", refused.Message);
        using var buffers = model.CreatePredictorBuffers(4, 1, 2);
        Assert.Equal((4, 1, 2, 1), (buffers.Batch, buffers.Time, buffers.SharedPositions, buffers.OutputPositions));
        Assert.Equal(2 * model.Spec.LatentSize, buffers.ContextLatents.Length);
        Assert.Equal(2 * model.Spec.ActionBlockSize, buffers.ContextActions.Length);
        // No shared positions: an empty context, and still only the window's last position out.
        using var none = model.CreatePredictorBuffers(4, 3, 0);
        Assert.Equal((3, 0, 1), (none.Time, none.SharedPositions, none.OutputPositions));
        Assert.Equal(0, none.ContextLatents.Length);
        Assert.Equal(4 * model.Spec.LatentSize, none.NextLatents.Length);
        // The plain predictor's buffers give every position.
        using var plain = model.CreatePredictorBuffers(4, 3);
        Assert.Equal(3, plain.OutputPositions);
        Assert.Equal(4 * 3 * model.Spec.LatentSize, plain.NextLatents.Length);
    }

    private static double RelativeError(float[] actual, float[] expected)
    {
        double diff = 0, scale = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs(actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }
        return diff / scale;
    }
}
