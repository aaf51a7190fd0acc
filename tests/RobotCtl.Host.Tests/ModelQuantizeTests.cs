using RobotCtl.Core.WorldModel;
using RobotCtl.Inference;
using RobotCtl.Inference.WorldModel;
using RobotCtl.Planning;

namespace RobotCtl.Host.Tests;

/// <summary>`robotctl model quantize` and Inference:Precision=int8 on a copy of the example LeWM, with the real ONNX Runtime.</summary>
public sealed class ModelQuantizeTests : IDisposable
{
    private static readonly InferenceOptions Cpu = new() { Provider = ExecutionProvider.Cpu, IntraOpThreads = 1 };
    private readonly TempDir _dir = new();
    private readonly string _model;

    public ModelQuantizeTests()
    {
        _model = _dir.File("lewm-small");
        Directory.CreateDirectory(_model);
        foreach (var file in Directory.EnumerateFiles(TestHome.SmallModel, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(_model, Path.GetRelativePath(TestHome.SmallModel, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    [Trait("Category", "Slow")]
    public void Quantize_writes_the_int8_predictor_reports_drift_and_time_and_a_run_can_plan_with_it()
    {
        var (code, stdout, stderr) = BadInputTests.Cli("model", "quantize", _model, "--threads", "1", "--batch", "16", "--runs", "1");

        Assert.True(code == 0, stderr);
        var int8 = Path.Combine(_model, "predictor.int8.onnx");
        Assert.Contains($"wrote {int8}", stdout);
        // Every product with a constant weight goes through ONNX Runtime's fused int8 kernel.
        Assert.Contains("DynamicQuantizeMatMul", System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(int8)));
        // The shared-context graph gets its int8 copy, timed beside the fp32 one for each split of the window.
        var sharedInt8 = Path.Combine(_model, "predictor.shared.int8.onnx");
        Assert.Contains($"wrote {sharedInt8}", stdout);
        var sharedBytes = System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(sharedInt8));
        Assert.Contains("DynamicQuantizeMatMul", sharedBytes);
        // q, k and v (and the AdaLN modulation's chunks) read one activation: quantised once, each product from it.
        Assert.Contains("MatMulIntegerToFloat", sharedBytes);
        Assert.Matches(@"""shared_activations"": [1-9]", stdout);
        // One int8 copy of each weight, and no fp32 weight left behind: under half the fp32 graph's bytes.
        Assert.True(new FileInfo(sharedInt8).Length < new FileInfo(Path.Combine(_model, "predictor.shared.onnx")).Length / 2,
            $"{sharedInt8}: {new FileInfo(sharedInt8).Length} bytes");
        // Splits of the 3-frame window: 0, 1 and 2 positions given once.
        Assert.Equal(3, stdout.Split('\n').Count(l => l.StartsWith("shared ", StringComparison.Ordinal)));
        Assert.Equal(4, stdout.Split('\n').Count(l => l.StartsWith("drift ", StringComparison.Ordinal)));
        Assert.Matches(@"fp32 [\d.]+ ms, int8 [\d.]+ ms \([\d.]+x\)", stdout);

        // The same inputs through both predictors: int8 is a different graph, not far off, and finite.
        using var fp32Model = OnnxWorldModel.Load(_model, Cpu);
        using var int8Model = OnnxWorldModel.Load(_model, Cpu with { Precision = PredictorPrecision.Int8 });
        var a = Predict(fp32Model);
        var b = Predict(int8Model);
        Assert.All(b, v => Assert.True(float.IsFinite(v)));
        var largest = a.Max(MathF.Abs);
        var drift = a.Zip(b, (x, y) => MathF.Abs(x - y)).Max();
        Assert.InRange(drift, 1e-6f, largest);

        // A planner on the int8 predictor plans, and allocates nothing per plan once warm.
        var spec = int8Model.Spec;
        using var planner = new LatentPlanner(int8Model, PlannerOptions.ForModel(spec) with { Samples = 32, TopK = 4, Iterations = 2, Seed = 3 },
            new ActionBounds([0.03f, 0.03f, 0.03f, 0.1f, 0.1f, 0.1f, 0.5f]));
        planner.SetGoal(a[..spec.LatentSize]);
        var start = new float[spec.LatentSize];
        var result = planner.CreateResult();
        planner.Plan(new PlanInput(start), result);
        Assert.True(float.IsFinite(result.FinalCost));
        Assert.Equal(0, Allocations.Of(() => planner.Plan(new PlanInput(start), result)));

        // From 3 context frames the int8 plan gives its shared positions to the int8 shared-context graph.
        Assert.True(int8Model.HasSharedContext);
        Assert.True(planner.SharesContext);
        var latents = a[..(3 * spec.LatentSize)];
        var executed = new float[2 * spec.ActionBlockSize];
        void PlanFromContext() => planner.Plan(new PlanInput(latents) { PastActions = executed, PastActionsNormalised = true }, result);
        PlanFromContext();
        Assert.True(float.IsFinite(result.FinalCost));
        Assert.Equal(0, Allocations.Of(PlanFromContext));
    }

    [Fact]
    public void Int8_precision_without_the_quantised_predictor_says_how_to_make_it()
    {
        var e = Assert.Throws<WorldModelException>(() => OnnxWorldModel.Load(_model, Cpu with { Precision = PredictorPrecision.Int8 }));
        Assert.Contains("predictor.int8.onnx: not found", e.Message);
        Assert.Contains($"robotctl model quantize {_model}", e.Message);
    }

    [Fact]
    public void Quantize_refuses_a_folder_that_is_not_a_model_in_one_line()
    {
        var (code, stdout, stderr) = BadInputTests.Cli("model", "quantize", _dir.Path);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("robotctl model quantize: ", stderr);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private static float[] Predict(OnnxWorldModel model)
    {
        var spec = model.Spec;
        using var buffers = model.CreatePredictorBuffers(2, spec.History);
        for (var i = 0; i < buffers.Latents.Length; i++) buffers.Latents[i] = MathF.Sin(i * 0.0137f);
        for (var i = 0; i < buffers.Actions.Length; i++) buffers.Actions[i] = MathF.Cos(i * 0.031f);
        model.Predict(buffers);
        return buffers.NextLatents.ToArray();
    }
}
