using System.Text.Json;
using RobotCtl.Core.Vision;
using RobotCtl.Core.WorldModel;
using RobotCtl.Host.Commands;
using RobotCtl.Inference;
using RobotCtl.Inference.WorldModel;
using RobotCtl.Planning;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Host.Tests;

/// <summary>
/// The planner on the real example models (models/examples, ONNX Runtime CPU) with images preprocessed by the real
/// Vision preprocessor (OpenCV through OpenCvSharp), and the `robotctl plan` command end to end.
/// </summary>
public sealed class PlanningIntegrationTests : IDisposable
{
    private static readonly InferenceOptions Cpu = new() { Provider = ExecutionProvider.Cpu, IntraOpThreads = 1, AllowSpinning = false };
    private readonly string _temp = Directory.CreateTempSubdirectory("robotctl-plan-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static string Root { get; } = FindRoot();

    private static string Example(string name) => Path.Combine(Root, "models", "examples", name);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "robotctl.sln"))) return dir.FullName;
        throw new InvalidOperationException("robotctl.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>A 96x80 BGR scene: grey floor, a coloured block at (x, y).</summary>
    private static Frame Scene(int x, int y)
    {
        var frame = new Frame(96, 80);
        for (var r = 0; r < frame.Height; r++)
            for (var c = 0; c < frame.Width; c++)
            {
                var i = (r * frame.Width + c) * 3;
                var block = Math.Abs(c - x) < 8 && Math.Abs(r - y) < 8;
                frame.Pixels[i] = (byte)(block ? 30 : 120);
                frame.Pixels[i + 1] = (byte)(block ? 60 : 120 + r / 4);
                frame.Pixels[i + 2] = (byte)(block ? 220 : 120);
            }
        return frame;
    }

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
        var observation = Encode(model, Scene(30, 40));
        var goal = Encode(model, Scene(60, 30));
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
        planner.SetGoal(Encode(model, Scene(60, 30)));
        var start = Encode(model, Scene(30, 40));
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

    [Fact]
    public void PlanCommandPrintsOneJsonObjectWithTheChunk()
    {
        var observation = Path.Combine(_temp, "observation.png");
        var goal = Path.Combine(_temp, "goal.png");
        ImageIo.SavePng(observation, Scene(30, 40));
        ImageIo.SavePng(goal, Scene(60, 30));
        var (code, stdout, stderr) = RunPlan(new PlanCommand.Arguments(Example("lewm-small"), observation, goal,
            Samples: 32, TopK: 4, Iterations: 3, Horizon: 2, Seed: 9, DeadlineMs: null, Solver: null, State: null, Json: true));
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        var actions = root.GetProperty("actions").EnumerateArray().ToArray();
        Assert.Equal(2 * 5, actions.Length);
        Assert.All(actions, a => Assert.Equal(7, a.GetArrayLength()));
        Assert.Equal(3, root.GetProperty("iterations").GetInt32());
        Assert.True(root.GetProperty("cost").GetDouble() >= 0);
        Assert.True(root.GetProperty("timings_ms").GetProperty("encode").GetDouble() > 0);
        Assert.True(root.GetProperty("timings_ms").GetProperty("plan").GetDouble() > 0);

        // Same seed, same images, same model: the same chunk.
        var (_, second, _) = RunPlan(new PlanCommand.Arguments(Example("lewm-small"), observation, goal,
            Samples: 32, TopK: 4, Iterations: 3, Horizon: 2, Seed: 9, DeadlineMs: null, Solver: null, State: null, Json: true));
        using var secondJson = JsonDocument.Parse(second);
        Assert.Equal(root.GetProperty("actions").GetRawText(), secondJson.RootElement.GetProperty("actions").GetRawText());
    }

    [Fact]
    public void PlanCommandWithZeroDeadlineReturnsTheWarmStartAndNoCost()
    {
        var image = Path.Combine(_temp, "scene.png");
        ImageIo.SavePng(image, Scene(50, 50));
        var (code, stdout, stderr) = RunPlan(new PlanCommand.Arguments(Example("lewm-small"), image, image,
            Samples: 16, TopK: 2, Iterations: 5, Horizon: 1, Seed: null, DeadlineMs: 0, Solver: "mppi", State: null, Json: true));
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(0, json.RootElement.GetProperty("iterations").GetInt32());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("cost").ValueKind);
        Assert.True(json.RootElement.GetProperty("stopped_by_deadline").GetBoolean());
    }

    [Theory]
    [InlineData("nan-predictor", null)]
    [InlineData("missing-predictor", null)]
    [InlineData(null, "not-an-image.png")]
    [InlineData(null, "missing.png")]
    public void PlanCommandRefusesBrokenModelsAndImagesWithOneLine(string? brokenModel, string? badImage)
    {
        var good = Path.Combine(_temp, "good.png");
        ImageIo.SavePng(good, Scene(40, 40));
        var model = brokenModel is null ? Example("lewm-small") : Path.Combine(Root, "tests", "fixtures", "broken-models", brokenModel);
        var observation = good;
        if (badImage is not null)
        {
            observation = Path.Combine(_temp, badImage);
            if (badImage == "not-an-image.png") File.WriteAllText(observation, "this is not a PNG");
        }
        var (code, stdout, stderr) = RunPlan(new PlanCommand.Arguments(model, observation, good,
            Samples: 16, TopK: 2, Iterations: 2, Horizon: 1, Seed: null, DeadlineMs: null, Solver: null, State: null, Json: true));
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("robotctl plan: ", lines[0]);
        Assert.DoesNotContain("   at ", stderr);
        Assert.Contains(brokenModel is null ? Path.GetFileName(observation) : brokenModel, stderr);
    }

    private static (int Code, string Stdout, string Stderr) RunPlan(PlanCommand.Arguments args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = PlanCommand.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
