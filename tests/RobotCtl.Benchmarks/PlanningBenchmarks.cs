using BenchmarkDotNet.Attributes;
using RobotCtl.Core.WorldModel;
using RobotCtl.Inference.WorldModel;
using RobotCtl.Planning;

namespace RobotCtl.Benchmarks;

/// <summary>A planning budget: samples x iterations x horizon (top-k = samples / 10, as LeWM's 300 / 30).</summary>
public readonly record struct PlanBudget(int Samples, int Iterations, int Horizon)
{
    public static PlanBudget[] Standard { get; } = [new(300, 30, 5), new(300, 10, 5), new(128, 10, 5)];
    public PlannerOptions Apply(PlannerOptions o) => o with { Samples = Samples, TopK = Math.Max(1, Samples / 10), Iterations = Iterations, Horizon = Horizon };
    public override string ToString() => $"{Samples}x{Iterations}x{Horizon}";
}

/// <summary>
/// The planner's own cost: a LeWM-shaped analytic model (latent 192, block 5 x 7, history 3) whose predictor costs
/// almost nothing, so the time is sampling, elite selection, refits, window assembly and distances.
/// </summary>
[MemoryDiagnoser]
public class PlanningAnalyticBenchmarks
{
    private LatentPlanner _planner = null!;
    private PlanResult _result = null!;
    private float[] _observation = null!;

    [ParamsSource(nameof(Budgets))]
    public PlanBudget Budget { get; set; }

    public static IEnumerable<PlanBudget> Budgets => PlanBudget.Standard;

    [GlobalSetup]
    public void Setup()
    {
        var model = new PlanningLinearModel();
        _planner = new LatentPlanner(model, Budget.Apply(PlannerOptions.ForModel(model.Spec)));
        _observation = Enumerable.Range(0, 192).Select(i => MathF.Sin(i * 0.1f)).ToArray();
        _planner.SetGoal(Enumerable.Range(0, 192).Select(i => MathF.Cos(i * 0.07f)).ToArray());
        _planner.WarmUp(new PlanInput(_observation));
        _result = _planner.CreateResult();
    }

    [Benchmark]
    public float Plan() => _planner.Plan(new PlanInput(_observation) { Seed = 1 }, _result).FinalCost;

    [GlobalCleanup]
    public void Cleanup()
    {
        var t = _result.Timings;
        Console.WriteLine($"// analytic {Budget}: last plan {t.TotalMs:F2} ms = predictor {t.PredictorMs:F2} + rollout {t.RolloutMs:F2} + solver {t.SolverMs:F2} ms");
        _planner.Dispose();
    }
}

/// <summary>
/// Whole plans on the ONNX models (ONNX Runtime CPU): the examples at every standard budget, LeWM-size (models/lewm-full,
/// made on demand by robotctl_models.make_models --full) at the smallest (one plan there takes seconds); its larger
/// budgets are timed side by side with PyTorch by scripts/bench-plan-vs-torch.
/// </summary>
[MemoryDiagnoser]
public class PlanningOnnxBenchmarks
{
    private OnnxWorldModel _model = null!;
    private LatentPlanner _planner = null!;
    private PlanResult _result = null!;
    private float[] _observation = null!, _state = null!;

    [ParamsSource(nameof(Cases))]
    public string Case { get; set; } = "";

    public static IEnumerable<string> Cases =>
        PlanBudget.Standard.SelectMany(b => new[] { $"examples/lewm-small {b}", $"examples/vjepa2ac-small {b}" })
            .Append($"lewm-full {PlanBudget.Standard[^1]}");

    [GlobalSetup]
    public void Setup()
    {
        var parts = Case.Split(' ');
        var dims = parts[1].Split('x').Select(int.Parse).ToArray();
        _model = OnnxWorldModel.Load(Path.Combine(PlanningRepoRoot.Find(), "models", parts[0]));
        var spec = _model.Spec;
        _planner = new LatentPlanner(_model, new PlanBudget(dims[0], dims[1], dims[2]).Apply(PlannerOptions.ForModel(spec)));
        _observation = EncodeFormulaImage(spec, 0.1);
        _planner.SetGoal(EncodeFormulaImage(spec, 1.7));
        _state = spec.StateDim > 0 ? [0.4f, 0f, 0.3f, 0f, 0f, 0f, 0.5f] : [];
        _planner.WarmUp(new PlanInput(_observation) { States = _state });
        _result = _planner.CreateResult();
    }

    [Benchmark]
    public float Plan() => _planner.Plan(new PlanInput(_observation) { States = _state, Seed = 1 }, _result).FinalCost;

    [GlobalCleanup]
    public void Cleanup()
    {
        Console.WriteLine($"// {Case}: last plan {_result.Timings.TotalMs:F1} ms, predictor {_result.Timings.PredictorMs:F1} ms, " +
                          $"rollout {_result.Timings.RolloutMs:F2} ms, solver {_result.Timings.SolverMs:F2} ms ({_result.Timings.SolverShare:P2})");
        _planner.Dispose();
        _model.Dispose();
    }

    /// <summary>The same deterministic input image robotctl_models.torch_cem uses by default: sin(i * 0.0137 + offset).</summary>
    private float[] EncodeFormulaImage(WorldModelSpec spec, double offset)
    {
        var pixels = new float[3 * spec.Image.Height * spec.Image.Width];
        for (var i = 0; i < pixels.Length; i++) pixels[i] = (float)Math.Sin(i * 0.0137 + offset);
        var latent = new float[spec.LatentSize];
        _model.Encode(pixels, 1, latent);
        return latent;
    }
}

/// <summary>LeWM-shaped stand-in with a nearly free predictor: z' = z, plus 0.05 * the action block on the first 35
/// latent dimensions (enough to make the cost depend on the actions); allocates nothing.</summary>
internal sealed class PlanningLinearModel : IWorldModel
{
    private const int Latent = 192, ActionWidth = 35;

    public WorldModelSpec Spec { get; } = new()
    {
        Name = "linear-latent", Family = "lewm",
        Image = new ImageSpec(224, 224, 255f, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]),
        LatentShape = [Latent], ActionDim = 7, ActionBlock = 5,
        ActionMean = new float[7], ActionStd = [0.02f, 0.02f, 0.02f, 0.05f, 0.05f, 0.05f, 0.2f],
        ActionSearch = [true, true, true, false, false, true, true],
        History = 3, Planner = new PlannerDefaults(),
    };

    public void Encode(ReadOnlySpan<float> pixels, int batch, Span<float> latents) => throw new NotSupportedException();

    public PredictorBuffers CreatePredictorBuffers(int batch, int time) => new ArrayPredictorBuffers(batch, time, Latent, ActionWidth, 0);

    public void Predict(PredictorBuffers buffers)
    {
        buffers.Latents.CopyTo(buffers.NextLatents);
        var rows = buffers.Batch * buffers.Time;
        for (var r = 0; r < rows; r++)
        {
            var next = buffers.NextLatents.Slice(r * Latent, ActionWidth);
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(buffers.Actions.Slice(r * ActionWidth, ActionWidth), 0.05f, next, next);
        }
    }

    public void Dispose() { }
}

internal static class PlanningRepoRoot
{
    /// <summary>The checkout holding robotctl.sln, found upward from the benchmark binary (or ROBOTCTL_ROOT).</summary>
    public static string Find()
    {
        if (Environment.GetEnvironmentVariable("ROBOTCTL_ROOT") is { Length: > 0 } root) return root;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "robotctl.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"robotctl.sln not found above {AppContext.BaseDirectory}; set ROBOTCTL_ROOT");
    }
}

/// <summary>
/// The solver alone at LeWM's shape (300 samples, top 30, 175 variables = 5 blocks x 5 x 7) against a free cost:
/// sampling (xoshiro256** + Box-Muller), projection, top-k and refit per iteration; and the normal generator itself.
/// </summary>
[MemoryDiagnoser]
public class PlanningSolverBenchmarks
{
    private const int Dimension = 175;
    private readonly float[] _normals = new float[300 * Dimension];
    private readonly RobotCtl.Planning.Solvers.Xoshiro256StarStar _rng = new(1);
    private RobotCtl.Planning.Solvers.CemSolver _cem = null!;
    private RobotCtl.Planning.Solvers.SolveResult _result = null!;
    private readonly float[] _initial = new float[Dimension];
    private readonly FreeCost _cost = new();

    [GlobalSetup]
    public void Setup()
    {
        var lower = Enumerable.Range(0, Dimension).Select(v => v % 7 is 3 or 4 ? 0f : -1.5f).ToArray();
        var upper = Enumerable.Range(0, Dimension).Select(v => v % 7 is 3 or 4 ? 0f : 1.5f).ToArray();
        _cem = new(new RobotCtl.Planning.Solvers.SolverSettings { Iterations = 1 }, new RobotCtl.Planning.Solvers.SearchSpace(lower, upper));
        _result = _cem.CreateResult();
        _cem.Solve(_cost, _initial, 1, long.MaxValue, _result);
    }

    /// <summary>One iteration's normals: 300 x 175.</summary>
    [Benchmark]
    public float Normals()
    {
        _rng.FillStandardNormal(_normals);
        return _normals[0];
    }

    /// <summary>One CEM iteration without a model.</summary>
    [Benchmark]
    public float CemIteration()
    {
        _cem.Solve(_cost, _initial, 1, long.MaxValue, _result);
        return _result.BestCost;
    }

    private sealed class FreeCost : RobotCtl.Planning.Solvers.ITrajectoryCost
    {
        public void Evaluate(ReadOnlySpan<float> candidates, Span<float> costs)
        {
            for (var r = 0; r < costs.Length; r++) costs[r] = candidates[r * Dimension] * candidates[r * Dimension];
        }
    }
}
