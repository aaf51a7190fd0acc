using System.Diagnostics;
using Xunit.Abstractions;

namespace RobotCtl.Inference.Tests;

/// <summary>The binding on the smallest real graph: Y = A[M, K] x B[K, N] with every dimension symbolic.</summary>
public class InferenceSessionTests
{
    [Fact]
    public void Metadata_reports_names_types_and_symbolic_dimensions()
    {
        using var session = InferenceSession.Open(TestData.MatMul, TestData.Cpu);

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
        using var session = InferenceSession.Open(TestData.MatMul, TestData.Cpu);
        using var a = OrtTensor.Create(m, k);
        using var b = OrtTensor.Create(k, n);
        using var y = OrtTensor.Create(m, n);
        TestData.Formula(m * k, 0.5).CopyTo(a.Span);
        TestData.Formula(k * n, 1.5).CopyTo(b.Span);

        session.Run([new("A", a), new("B", b)], [new("Y", y)]);

        Assert.True(TestData.MaxAbsDifference(y.Span, Product(a.Span, b.Span, m, k, n)) < 1e-4f);
    }

    [Fact]
    public void A_binding_reuses_its_output_tensor_across_runs()
    {
        const int m = 8, k = 16, n = 4;
        using var session = InferenceSession.Open(TestData.MatMul, TestData.Cpu);
        using var a = OrtTensor.Create(m, k);
        using var b = OrtTensor.Create(k, n);
        using var y = OrtTensor.Create(m, n);
        using var binding = session.CreateBinding();
        binding.BindInput("A", a);
        binding.BindInput("B", b);
        binding.BindOutput("Y", y);

        for (int round = 0; round < 3; round++)
        {
            TestData.Formula(m * k, round).CopyTo(a.Span);
            TestData.Formula(k * n, 2 * round).CopyTo(b.Span);
            session.Run(binding);
            Assert.True(TestData.MaxAbsDifference(y.Span, Product(a.Span, b.Span, m, k, n)) < 1e-4f, $"round {round}");
        }
    }

    [Fact]
    public void A_failing_run_becomes_an_OrtException_with_the_native_code_and_message()
    {
        using var session = InferenceSession.Open(TestData.MatMul, TestData.Cpu);
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
            var error = Assert.Throws<OrtException>(() => InferenceSession.Open(file, TestData.Cpu));
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
        using var session = InferenceSession.Open(TestData.MatMul, TestData.Cpu);
        using var binding = session.CreateBinding();
        using var t = OrtTensor.Create(2, 2);

        var error = Assert.Throws<ArgumentException>(() => binding.BindInput("C", t));

        Assert.Contains("'C'", error.Message);
        Assert.Contains("A, B", error.Message);
    }

    [CpuOnlyBuildFact]
    public void Cuda_on_a_CPU_build_fails_at_start_saying_how_to_use_a_GPU_build()
    {
        var error = Assert.Throws<InferenceSetupException>(() =>
            InferenceSession.Open(TestData.MatMul, TestData.Cpu with { Provider = ExecutionProvider.Cuda }));

        Assert.Contains("execution provider Cuda was requested", error.Message);
        Assert.Contains(OnnxRuntime.EnvironmentVariable, error.Message);
        Assert.Contains(OnnxRuntime.ConfigurationKey, error.Message);
    }

    [CpuOnlyBuildFact]
    public void TensorRt_on_a_CPU_build_fails_at_start_too()
    {
        var error = Assert.Throws<InferenceSetupException>(() =>
            InferenceSession.Open(TestData.MatMul, TestData.Cpu with { Provider = ExecutionProvider.TensorRt }));

        Assert.Contains("execution provider TensorRt was requested", error.Message);
        Assert.Contains(OnnxRuntime.EnvironmentVariable, error.Message);
    }

    [CpuOnlyBuildFact]
    public void Auto_on_a_CPU_build_runs_on_the_CPU_quietly()
    {
        // Nobody asked for CUDA: a CPU machine running on the CPU is not worth a warning on every command.
        var warnings = new List<string>();

        using var session = InferenceSession.Open(TestData.MatMul, TestData.Cpu with { Provider = ExecutionProvider.Auto }, warnings.Add);

        Assert.Equal(ExecutionProvider.Cpu, session.Provider);
        Assert.Empty(warnings);
    }

    [GpuBuildFact]
    public void Cuda_runs_the_matrix_product_on_a_GPU_build()
    {
        const int m = 64, k = 32, n = 16;
        using var session = InferenceSession.Open(TestData.MatMul, new InferenceOptions { Provider = ExecutionProvider.Cuda });
        using var a = OrtTensor.Create(m, k);
        using var b = OrtTensor.Create(k, n);
        using var y = OrtTensor.Create(m, n);
        TestData.Formula(m * k, 0.5).CopyTo(a.Span);
        TestData.Formula(k * n, 1.5).CopyTo(b.Span);

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
            using var session = InferenceSession.Open(TestData.MatMul, TestData.Cpu);
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

/// <summary>Runs only when the loaded ONNX Runtime can start CUDA (a GPU build configured through ROBOTCTL_ORT_LIBRARY).</summary>
public sealed class GpuBuildFactAttribute : FactAttribute
{
    public GpuBuildFactAttribute()
    {
        if (InferenceSession.ProviderProblem(ExecutionProvider.Cuda) is { } problem)
            Skip = $"no usable GPU build of ONNX Runtime is configured ({problem}). Set {OnnxRuntime.EnvironmentVariable} " +
                   "to a GPU build's libonnxruntime.so.1, with CUDA/cuDNN installed, to run this test.";
    }
}

/// <summary>Runs only where CUDA cannot start, where asking for it must fail clearly.</summary>
public sealed class CpuOnlyBuildFactAttribute : FactAttribute
{
    public CpuOnlyBuildFactAttribute()
    {
        if (InferenceSession.ProviderProblem(ExecutionProvider.Cuda) is null)
            Skip = $"{OnnxRuntime.Load()} can start CUDA; the CPU-build refusal cannot be shown with it.";
    }
}
