using RobotCtl.Core.Vision;
using RobotCtl.Core.WorldModel;
using RobotCtl.Inference;
using RobotCtl.Inference.WorldModel;
using RobotCtl.Planning;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Runtime.Tests;

/// <summary>
/// The planner on the real example models (models/examples, ONNX Runtime CPU) with images preprocessed by the real
/// Vision preprocessor (OpenCV through OpenCvSharp).
/// </summary>
public sealed class PlanningIntegrationTests
{
    private static readonly InferenceOptions Cpu = new() { Provider = ExecutionProvider.Cpu, IntraOpThreads = 1, AllowSpinning = false };

    private static string Example(string name) => Path.Combine(RuntimeTestHome.Root, "models", "examples", name);

    private static float[] Encode(OnnxWorldModel model, Frame frame)
    {
        using var preprocessor = new Preprocessor(model.Spec.Image);
        var pixels = new float[preprocessor.OutputLength];
        preprocessor.Process(frame, pixels);
        var latent = new float[model.Spec.LatentSize];
        model.Encode(pixels, 1, latent);
        return latent;
    }

    private static PlannerOptions Small(WorldModelSpec spec) =>
        PlannerOptions.ForModel(spec) with { Samples = 64, TopK = 8, Iterations = 6, Seed = 5 };

    [Fact]
    public void LeWMSmallPlanIsReproducibleImprovesAndItsCostMatchesAOneSampleRollout()
    {
        using var model = OnnxWorldModel.Load(Example("lewm-small"), Cpu);
        var spec = model.Spec;
        var observation = Encode(model, TestScenes.BlockScene(30, 40));
        var goal = Encode(model, TestScenes.BlockScene(60, 30));
        var bounds = new ActionBounds([0.03f, 0.03f, 0.03f, 0.1f, 0.1f, 0.1f, 0.5f]);

        PlanResult Plan()
        {
            using var planner = new LatentPlanner(model, Small(spec), bounds);
            planner.SetGoal(goal);
            return planner.Plan(new PlanInput(observation));
        }

        var plan = Plan();
        var again = Plan();
        Assert.Equal(plan.Actions.Select(BitConverter.SingleToInt32Bits), again.Actions.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(6, plan.Iterations);
        Assert.Equal(spec.Planner.Horizon * spec.ActionBlock, plan.Steps);
        var costs = plan.BestCostPerIteration.ToArray();
        for (var i = 1; i < costs.Length; i++) Assert.True(costs[i] <= costs[i - 1] * (1 + 1e-5f), $"iteration {i}: {costs[i]} > {costs[i - 1]}");
        for (var s = 0; s < plan.Steps; s++)
        {
            var a = plan.Action(s);
            for (var i = 0; i < 7; i++)
            {
                Assert.InRange(a[i], -bounds.MaxStep[i], bounds.MaxStep[i]);
                if (!spec.ActionSearch[i]) Assert.Equal(0f, a[i]);
            }
        }

        // Re-run the returned chunk through the predictor one sample at a time (window 1, 2, 3, 3, 3): the cost the
        // planner reported for it must be the mse of that rollout's last latent to the goal.
        var frames = new List<float[]> { observation };
        var blockSize = spec.ActionBlockSize;
        for (var k = 0; k < plan.Horizon; k++)
        {
            var t = Math.Min(frames.Count, spec.History);
            using var buffers = model.CreatePredictorBuffers(1, t);
            for (var p = 0; p < t; p++)
            {
                var j = frames.Count - t + p;
                frames[j].CopyTo(buffers.Latents.Slice(p * spec.LatentSize, spec.LatentSize));
                for (var v = 0; v < blockSize; v++)
                {
                    var d = v % spec.ActionDim;
                    buffers.Actions[p * blockSize + v] = (plan.Actions[j * blockSize + v] - spec.ActionMean[d]) / spec.ActionStd[d];
                }
            }
            model.Predict(buffers);
            frames.Add(buffers.NextLatents.Slice((t - 1) * spec.LatentSize, spec.LatentSize).ToArray());
        }
        var mse = frames[^1].Zip(goal).Sum(p => (double)(p.First - p.Second) * (p.First - p.Second));
        Assert.Equal(mse, plan.FinalCost, mse * 1e-3);
    }

    [Fact]
    public void VJepaShapedSmallPlansWithStatesAndL1()
    {
        using var model = OnnxWorldModel.Load(Example("vjepa2ac-small"), Cpu);
        var spec = model.Spec;
        Assert.Equal(LatentCost.L1, spec.Cost);
        float[] state = [0.4f, 0f, 0.3f, 0f, 0f, 0f, 0.5f];
        var options = Small(spec) with { GripperDeadband = 0.05f, MeanMomentum = 0.15f, StdMomentum = 0.15f };
        using var planner = new LatentPlanner(model, options, new ActionBounds([0.075f, 0.075f, 0.075f, 0.1f, 0.1f, 0.1f, 0.75f]));
        planner.SetGoal(Encode(model, TestScenes.BlockScene(60, 30)));
        var start = Encode(model, TestScenes.BlockScene(30, 40));
        var input = new PlanInput(start) { States = state };
        planner.WarmUp(input);
        var result = planner.CreateResult();
        planner.Plan(input, result);
        Assert.Equal(6, result.Iterations);
        Assert.True(float.IsFinite(result.FinalCost) && result.FinalCost > 0);
        for (var s = 0; s < result.Steps; s++)
        {
            var a = result.Action(s);
            Assert.Equal(0f, a[3]); Assert.Equal(0f, a[4]); Assert.Equal(0f, a[5]);
            Assert.True(a[6] == 0f || Math.Abs(a[6]) >= 0.05f);
        }
        // Steady state on the real ONNX model: a plan allocates nothing managed.
        Assert.Equal(0, Allocations.Of(() => planner.Plan(new PlanInput(start) { States = state }, result)));
    }
}
