using System.Diagnostics;

namespace RobotCtl.Inference;

/// <summary>
/// ONNX Runtime's own rate on one large fp32 product (n x n by n x n), with the session options a model runs with: the
/// practical ceiling the predictor's matrix products are measured against (`robotctl model bench`,
/// docs/PERFORMANCE.md). The graph is a bare MatMul embedded in this assembly.
/// </summary>
public static class MatMulCeiling
{
    /// <summary>The best of <paramref name="runs"/> timed products after one untimed, in GFLOP/s (2 n^3 per product).</summary>
    public static double GflopsPerSecond(InferenceOptions options, int n = 2048, int runs = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        var path = Path.Combine(Path.GetTempPath(), $"robotctl-matmul-{Environment.ProcessId}-{Guid.NewGuid():N}.onnx");
        try
        {
            using (var resource = typeof(MatMulCeiling).Assembly.GetManifestResourceStream("matmul.onnx")
                ?? throw new InvalidOperationException("the embedded matmul.onnx is missing from RobotCtl.Inference"))
            using (var file = File.Create(path))
                resource.CopyTo(file);
            using var graph = OnnxGraph.Open(path, options);
            using var a = OrtTensor.Create(n, n);
            using var b = OrtTensor.Create(n, n);
            using var y = OrtTensor.Create(n, n);
            for (var i = 0; i < a.Length; i++) a.Span[i] = b.Span[i] = MathF.Sin(i * 0.0137f);
            using var binding = graph.CreateBinding();
            binding.BindInput("A", a);
            binding.BindInput("B", b);
            binding.BindOutput("Y", y);
            graph.Run(binding);
            var best = double.MaxValue;
            for (var r = 0; r < runs; r++)
            {
                var start = Stopwatch.GetTimestamp();
                graph.Run(binding);
                best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
            }
            return 2.0 * n * n * n / best / 1e9;
        }
        finally
        {
            File.Delete(path);
        }
    }
}
