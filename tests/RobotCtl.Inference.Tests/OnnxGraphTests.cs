using System.Diagnostics;
using RobotCtl.Inference.WorldModel;
using Xunit.Abstractions;

namespace RobotCtl.Inference.Tests;

/// <summary>The binding on the smallest real graph: Y = A[M, K] x B[K, N] with every dimension symbolic.</summary>
public class OnnxGraphTests
{
    [Fact]
    public void Metadata_reports_names_types_and_symbolic_dimensions()
    {
        using var session = OnnxGraph.Open(TestData.MatMul, TestData.Cpu);

        Assert.Equal(["A", "B"], session.Inputs.Select(i => i.Name));
        Assert.Equal("Y", Assert.Single(session.Outputs).Name);
        Assert.All(session.Inputs.Concat(session.Outputs), m => Assert.Equal(TensorElementType.Float, m.ElementType));
        Assert.Equal([-1L, -1L], session.Inputs[0].Shape);
        Assert.Equal(["M", "K"], session.Inputs[0].DimensionNames);
        Assert.Equal(["K", "N"], session.Inputs[1].DimensionNames);
        Assert.Equal(["M", "N"], session.Outputs[0].DimensionNames);
        Assert.Equal("A: float32[M, K]", session.Inputs[0].ToString());
        Assert.Equal(ExecutionProvider.Cpu, session.Provider);
    }

    [Fact]
    public void Run_matches_a_managed_matrix_product_and_writes_into_our_tensor()
    {
        const int m = 37, k = 53, n = 29;
        using var session = OnnxGraph.Open(TestData.MatMul, TestData.Cpu);
        using var a = OrtTensor.Create(m, k);
        using var b = OrtTensor.Create(k, n);
        using var y = OrtTensor.Create(m, n);
        ReferenceCases.Formula(m * k, 0.5).CopyTo(a.Span);
        ReferenceCases.Formula(k * n, 1.5).CopyTo(b.Span);

        session.Run([new("A", a), new("B", b)], [new("Y", y)]);

        Assert.True(TestData.MaxAbsDifference(y.Span, Product(a.Span, b.Span, m, k, n)) < 1e-4f);
    }

    [Fact]
    public void A_binding_reuses_its_output_tensor_across_runs()
    {
        const int m = 8, k = 16, n = 4;
        using var session = OnnxGraph.Open(TestData.MatMul, TestData.Cpu);
        using var a = OrtTensor.Create(m, k);
        using var b = OrtTensor.Create(k, n);
        using var y = OrtTensor.Create(m, n);
        using var binding = session.CreateBinding();
        binding.BindInput("A", a);
        binding.BindInput("B", b);
        binding.BindOutput("Y", y);

        for (int round = 0; round < 3; round++)
        {
            ReferenceCases.Formula(m * k, round).CopyTo(a.Span);
            ReferenceCases.Formula(k * n, 2 * round).CopyTo(b.Span);
            session.Run(binding);
            Assert.True(TestData.MaxAbsDifference(y.Span, Product(a.Span, b.Span, m, k, n)) < 1e-4f, $"round {round}");
        }
    }

    [Fact]
    public void A_failing_run_becomes_an_OrtException_with_the_native_code_and_message()
    {
        using var session = OnnxGraph.Open(TestData.MatMul, TestData.Cpu);
        using var a = OrtTensor.Create(2, 3);
        using var b = OrtTensor.Create(4, 5);   // K disagrees
        using var y = OrtTensor.Create(2, 5);

        var error = Assert.Throws<OrtException>(() => session.Run([new("A", a), new("B", b)], [new("Y", y)]));

        Assert.NotEqual(OrtErrorCode.Ok, error.Code);
        Assert.Contains("matmul", error.NativeMessage, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_graph_that_does_not_parse_is_an_OrtException()
    {
        var file = Path.Combine(Path.GetTempPath(), $"robotctl-bad-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(file, [1, 2, 3, 4, 5, 6, 7, 8]);
        try
        {
            var error = Assert.Throws<OrtException>(() => OnnxGraph.Open(file, TestData.Cpu));
            Assert.NotEqual(OrtErrorCode.Ok, error.Code);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Unknown_tensor_names_are_refused_before_the_native_call()
    {
        using var session = OnnxGraph.Open(TestData.MatMul, TestData.Cpu);
        using var binding = session.CreateBinding();
        using var t = OrtTensor.Create(2, 2);

        var error = Assert.Throws<ArgumentException>(() => binding.BindInput("C", t));

        Assert.Contains("'C'", error.Message);
        Assert.Contains("A, B", error.Message);
    }

    [CpuOnlyBuildFact]
    public void Cuda_on_a_CPU_build_fails_at_start_in_one_line_saying_how_to_get_the_CUDA_build()
    {
        var error = Assert.Throws<InferenceSetupException>(() =>
            OnnxGraph.Open(TestData.MatMul, TestData.Cpu with { Provider = ExecutionProvider.Cuda }));

        Assert.Equal(
            "execution provider Cuda was requested, but this robotctl was built with the CPU build of ONNX Runtime " +
            "(Microsoft.ML.OnnxRuntime 1.31.1); get the CUDA build with `ROBOTCTL_GPU=1 scripts/setup --gpu` " +
            "(or `dotnet build -p:RobotCtlGpu=true`), or choose the Cpu or Auto provider.", error.Message);
        Assert.Equal(error.Message, OnnxGraph.ProviderProblem(ExecutionProvider.Cuda));
    }

    [CpuOnlyBuildFact]
    public void TensorRt_on_a_CPU_build_fails_at_start_too()
    {
        var error = Assert.Throws<InferenceSetupException>(() =>
            OnnxGraph.Open(TestData.MatMul, TestData.Cpu with { Provider = ExecutionProvider.TensorRt }));

        Assert.StartsWith("execution provider TensorRt was requested, but this robotctl was built with the CPU build", error.Message);
        Assert.Contains("ROBOTCTL_GPU=1 scripts/setup --gpu", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [CpuOnlyBuildFact]
    public void Auto_on_a_CPU_build_runs_on_the_CPU_quietly()
    {
        // Nobody asked for CUDA: a CPU machine running on the CPU is not worth a warning on every command.
        var warnings = new List<string>();

        using var session = OnnxGraph.Open(TestData.MatMul, TestData.Cpu with { Provider = ExecutionProvider.Auto }, warnings.Add);

        Assert.Equal(ExecutionProvider.Cpu, session.Provider);
        Assert.Empty(warnings);
    }

    [Fact]
    public void Every_session_option_is_accepted_and_profiling_writes_a_trace()
    {
        var prefix = Path.Combine(Path.GetTempPath(), $"robotctl-profile-{Guid.NewGuid():N}");
        var options = new InferenceOptions
        {
            Provider = ExecutionProvider.Cpu, IntraOpThreads = 1, InterOpThreads = 1, Optimization = GraphOptimization.Basic,
            ExecutionMode = ExecutionMode.Parallel, AllowSpinning = true, ProfileFilePrefix = prefix,
        };
        using (var session = OnnxGraph.Open(TestData.MatMul, options))
        using (var a = OrtTensor.Create(2, 2))
        using (var y = OrtTensor.Create(2, 2))
            session.Run([new("A", a), new("B", a)], [new("Y", y)]);

        var traces = Directory.GetFiles(Path.GetDirectoryName(prefix)!, Path.GetFileName(prefix) + "*.json");
        try
        {
            Assert.Single(traces);
        }
        finally
        {
            foreach (var t in traces) File.Delete(t);
        }
    }

    [GpuBuildFact]
    public void Cuda_runs_the_matrix_product_on_a_GPU_build()
    {
        const int m = 64, k = 32, n = 16;
        using var session = OnnxGraph.Open(TestData.MatMul, new InferenceOptions { Provider = ExecutionProvider.Cuda });
        using var a = OrtTensor.Create(m, k);
        using var b = OrtTensor.Create(k, n);
        using var y = OrtTensor.Create(m, n);
        ReferenceCases.Formula(m * k, 0.5).CopyTo(a.Span);
        ReferenceCases.Formula(k * n, 1.5).CopyTo(b.Span);

        session.Run([new("A", a), new("B", b)], [new("Y", y)]);

        Assert.Equal(ExecutionProvider.Cuda, session.Provider);
        Assert.True(TestData.MaxAbsDifference(y.Span, Product(a.Span, b.Span, m, k, n)) < 1e-3f);
    }

    internal static float[] Product(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int m, int k, int n)
    {
        var y = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++) sum += (double)a[i * k + p] * b[p * n + j];
                y[i * n + j] = (float)sum;
            }
        return y;
    }
}

/// <summary>Measures process memory, so it runs alone: other tests loading models would show up as growth.</summary>
[CollectionDefinition(nameof(MemoryTests), DisableParallelization = true)]
public sealed class MemoryTests;

[Collection(nameof(MemoryTests))]
public class SessionLifetimeTests(ITestOutputHelper output)
{
    [Fact]
    public void Creating_and_disposing_a_session_500_times_does_not_grow_memory()
    {
        using var a = OrtTensor.Create(4, 4);
        using var b = OrtTensor.Create(4, 4);
        using var y = OrtTensor.Create(4, 4);
        void Cycle()
        {
            using var session = OnnxGraph.Open(TestData.MatMul, TestData.Cpu);
            using var binding = session.CreateBinding();
            binding.BindInput("A", a);
            binding.BindInput("B", b);
            binding.BindOutput("Y", y);
            session.Run(binding);
        }
        for (int i = 0; i < 50; i++) Cycle();   // warm-up: arenas, thread pools, JIT
        Settle();
        long rssBefore = ResidentBytes(), managedBefore = GC.GetTotalMemory(forceFullCollection: true);

        for (int i = 0; i < 500; i++) Cycle();
        Settle();
        long rssGrowth = ResidentBytes() - rssBefore, managedGrowth = GC.GetTotalMemory(forceFullCollection: true) - managedBefore;

        // A leaked session (its graph, kernels and a thread pool) costs tens of KB each: 500 of them would show as
        // >= 10 MB. Allocator noise stays well below that.
        output.WriteLine($"growth over 500 sessions: resident {rssGrowth / 1024} KiB, managed {managedGrowth / 1024} KiB");
        Assert.True(rssGrowth < 8 << 20, $"resident memory grew by {rssGrowth / 1024} KiB over 500 sessions");
        Assert.True(managedGrowth < 1 << 20, $"managed heap grew by {managedGrowth / 1024} KiB over 500 sessions");
    }

    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static long ResidentBytes()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64;
    }

}

/// <summary>Runs only on the CUDA build where the CUDA provider can start (see the README for running it by hand).</summary>
public sealed class GpuBuildFactAttribute : FactAttribute
{
    public GpuBuildFactAttribute()
    {
        if (OnnxGraph.ProviderProblem(ExecutionProvider.Cuda) is { } problem)
            Skip = $"CUDA cannot start here: {problem}";
    }
}

/// <summary>Runs only on the CPU build, where asking for CUDA must fail clearly.</summary>
public sealed class CpuOnlyBuildFactAttribute : FactAttribute
{
    public CpuOnlyBuildFactAttribute()
    {
        if (OnnxRuntimeBuild.IsCuda) Skip = "this is the CUDA build; the CPU-build refusal cannot be shown with it.";
    }
}
