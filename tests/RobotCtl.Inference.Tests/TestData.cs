using System.Text.Json;
using RobotCtl.Inference.WorldModel;

namespace RobotCtl.Inference.Tests;

/// <summary>Where the generated models live (models/tools/make_models.py) and how their reference cases are read.</summary>
internal static class TestData
{
    public static string RepoRoot { get; } = FindRoot();

    public static string Example(string name) => Path.Combine(RepoRoot, "models", "examples", name);
    public static string Broken(string name) => Path.Combine(RepoRoot, "tests", "fixtures", "broken-models", name);
    public static string MatMul => Path.Combine(RepoRoot, "tests", "fixtures", "matmul", "matmul.onnx");

    /// <summary>Single intra-op thread: the machine is shared, and results must not depend on threading.</summary>
    public static InferenceOptions Cpu { get; } = new() { Provider = ExecutionProvider.Cpu, IntraOpThreads = 1, AllowSpinning = false };

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "robotctl.sln"))) return dir.FullName;
        throw new InvalidOperationException("robotctl.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>x[i] = float32(sin(i * 0.0137 + offset)), computed in double (models/README.md).</summary>
    public static float[] Formula(long count, double offset)
    {
        var x = new float[count];
        for (long i = 0; i < count; i++) x[i] = (float)Math.Sin(i * 0.0137 + offset);
        return x;
    }

    public sealed record Input(string Name, long[] Shape, double Offset)
    {
        public long Count => Shape.Aggregate(1L, (a, b) => a * b);
        public float[] Values() => Formula(Count, Offset);
    }

    public sealed record Case(string Name, string Graph, IReadOnlyList<Input> Inputs, string OutputName, long[] OutputShape, float[] Expected);

    public static IReadOnlyList<Case> ReferenceCases(string modelDirectory)
    {
        var folder = Path.Combine(modelDirectory, "reference");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "reference.json")));
        var cases = new List<Case>();
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            var inputs = c.GetProperty("inputs").EnumerateObject()
                .Select(p => new Input(p.Name, p.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray(),
                    p.Value.GetProperty("offset").GetDouble()))
                .ToList();
            var output = c.GetProperty("output");
            var bytes = File.ReadAllBytes(Path.Combine(folder, output.GetProperty("file").GetString()!));
            var expected = new float[bytes.Length / 4];
            Buffer.BlockCopy(bytes, 0, expected, 0, bytes.Length);   // little-endian float32, as on x64
            cases.Add(new Case(c.GetProperty("name").GetString()!, c.GetProperty("graph").GetString()!, inputs,
                output.GetProperty("name").GetString()!, output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray(),
                expected));
        }
        return cases;
    }

    public static float MaxAbsDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        float max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }
}
