using RobotCtl.Inference.WorldModel;

namespace RobotCtl.Inference.Tests;

/// <summary>Where the generated models live (robotctl_models.make_models) and how outputs are compared.</summary>
internal static class TestData
{
    public static string RepoRoot { get; } = FindRoot();

    public static string Example(string name) => Path.Combine(RepoRoot, "models", "examples", name);
    public static string Broken(string name) => Path.Combine(RepoRoot, "tests", "fixtures", "broken-models", name);
    public static string MatMul => Path.Combine(RepoRoot, "src", "RobotCtl.Inference", "Resources", "matmul.onnx");

    /// <summary>Single intra-op thread: the machine is shared, and results must not depend on threading.</summary>
    public static InferenceOptions Cpu { get; } = new() { Provider = ExecutionProvider.Cpu, IntraOpThreads = 1, AllowSpinning = false };

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "robotctl.sln"))) return dir.FullName;
        throw new InvalidOperationException("robotctl.sln not found above " + AppContext.BaseDirectory);
    }

    public static float MaxAbsDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        float max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }
}
