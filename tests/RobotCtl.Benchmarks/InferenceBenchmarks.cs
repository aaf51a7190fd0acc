using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using RobotCtl.Core.WorldModel;
using RobotCtl.Inference;
using RobotCtl.Inference.WorldModel;

namespace RobotCtl.Benchmarks;

/// <summary>
/// ONNX Runtime on the full-size LeWM (models/lewm-full): encoder latency at batch 1, predictor step latency at batch
/// 300 with a 3-frame window (one CEM iteration's worth of candidates), each with its GFLOP/s from model.json "flops";
/// and ONNX Runtime's own rate on a bare 2048^3 MatMul (src/RobotCtl.Inference/Resources/matmul.onnx), the practical ceiling of this machine.
/// MemoryDiagnoser's "Allocated" column shows managed allocations per call (the predictor's must be zero).
/// Run: dotnet run -c Release --project tests/RobotCtl.Benchmarks -- --filter '*InferenceBenchmarks*' --job short
/// </summary>
[MemoryDiagnoser]
[Config(typeof(GflopsConfig))]
public class InferenceBenchmarks
{
    private const int MatMulSize = 2048;
    private const int PredictorBatch = 300;

    private OnnxWorldModel _model = null!;
    private PredictorBuffers _buffers = null!;
    private float[] _pixels = null!, _latent = null!;
    private OnnxGraph _matmul = null!;
    private OrtBinding _matmulBinding = null!;
    private OrtTensor _a = null!, _b = null!, _y = null!;

    /// <summary>Intra-op threads: 0 = ONNX Runtime's default (one per physical core, 2 here); 1 = the calling thread only.</summary>
    [Params(0, 1)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var root = RepoRoot();
        var directory = ModelDirectory(root);
        if (!File.Exists(Path.Combine(directory, "model.json")))
            throw new InvalidOperationException(
                $"{directory} is absent: generate it with `PYTHONPATH=models /usr/bin/python3 -m robotctl_models.make_models --full` " +
                "(needs `scripts/setup --models` for PyTorch; takes a few minutes).");
        var options = new InferenceOptions { Provider = ExecutionProvider.Cpu, IntraOpThreads = Threads };
        _model = OnnxWorldModel.Load(directory, options);
        var spec = _model.Spec;
        _pixels = new float[3 * spec.Image.Height * spec.Image.Width];
        for (int i = 0; i < _pixels.Length; i++) _pixels[i] = MathF.Sin(i * 0.0137f);
        _latent = new float[spec.LatentSize];
        _buffers = _model.CreatePredictorBuffers(PredictorBatch, spec.History);
        var latents = _buffers.Latents;
        for (int i = 0; i < latents.Length; i++) latents[i] = MathF.Sin(i * 0.0137f + 0.2f);

        _matmul = OnnxGraph.Open(Path.Combine(root, "src", "RobotCtl.Inference", "Resources", "matmul.onnx"), options);
        _a = OrtTensor.Create(MatMulSize, MatMulSize);
        _b = OrtTensor.Create(MatMulSize, MatMulSize);
        _y = OrtTensor.Create(MatMulSize, MatMulSize);
        for (int i = 0; i < _a.Length; i++) _a.Span[i] = _b.Span[i] = MathF.Sin(i * 0.0137f);
        _matmulBinding = _matmul.CreateBinding();
        _matmulBinding.BindInput("A", _a);
        _matmulBinding.BindInput("B", _b);
        _matmulBinding.BindOutput("Y", _y);

    }

    [Benchmark]
    public void EncoderBatch1() => _model.Encode(_pixels, 1, _latent);

    [Benchmark]
    public void PredictorStepBatch300Window3() => _model.Predict(_buffers);

    [Benchmark]
    public void OrtMatMul2048() => _matmul.Run(_matmulBinding);

    [GlobalCleanup]
    public void Cleanup()
    {
        _buffers.Dispose();
        _model.Dispose();
        _matmulBinding.Dispose();
        _matmul.Dispose();
        _a.Dispose();
        _b.Dispose();
        _y.Dispose();
    }

    /// <summary>models/lewm-full when it has been generated; otherwise the committed models/examples/lewm-small, so the
    /// benchmark runs on a fresh checkout (same graph shape, smaller widths).</summary>
    internal static string ModelDirectory(string root)
    {
        var full = Path.Combine(root, "models", "lewm-full");
        return File.Exists(Path.Combine(full, "model.json")) ? full : Path.Combine(root, "models", "examples", "lewm-small");
    }

    /// <summary>FLOPs of one call of each benchmark (model.json "flops"; 2 n^3 for the MatMul), for the GFLOP/s column.</summary>
    internal static IReadOnlyDictionary<string, double> FlopsPerCall()
    {
        var flops = new Dictionary<string, double> { [nameof(OrtMatMul2048)] = 2.0 * MatMulSize * MatMulSize * MatMulSize };
        try
        {
            var manifest = ModelManifest.Load(ModelDirectory(RepoRoot()));
            if (manifest.Flops is { } f)
            {
                flops[nameof(EncoderBatch1)] = f.EncoderPerImage;
                flops[nameof(PredictorStepBatch300Window3)] = f.PredictorPerSample.GetValueOrDefault(manifest.Spec.History) * PredictorBatch;
            }
        }
        catch (Exception e) when (e is WorldModelException or InvalidOperationException)
        {
            // No model: the model rows show "-" (GlobalSetup has already said how to generate it).
        }
        return flops;
    }

    internal static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "robotctl.sln"))) return dir.FullName;
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "robotctl.sln"))) return dir.FullName;
        throw new InvalidOperationException("robotctl.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>Adds a GFLOP/s column: the benchmark's FLOPs (from model.json "flops") over its mean time.</summary>
internal sealed class GflopsConfig : ManualConfig
{
    public GflopsConfig() => AddColumn(new GflopsColumn());

    private sealed class GflopsColumn : IColumn
    {
        public string Id => "GFLOP/s";
        public string ColumnName => "GFLOP/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "Billions of floating-point operations per second (model.json flops / mean time)";
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;   // nanoseconds
            return mean is > 0 && Flops.Value.TryGetValue(benchmarkCase.Descriptor.WorkloadMethod.Name, out var flops)
                ? (flops / mean.Value).ToString("F1", System.Globalization.CultureInfo.InvariantCulture)
                : "-";
        }

        // The column is computed in the host process, which does not run GlobalSetup.
        private static readonly Lazy<IReadOnlyDictionary<string, double>> Flops = new(InferenceBenchmarks.FlopsPerCall);
    }
}
