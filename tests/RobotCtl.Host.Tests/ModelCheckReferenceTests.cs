using System.Text.Json;

namespace RobotCtl.Host.Tests;

/// <summary>
/// `robotctl model check` runs a model directory's reference/ cases (PyTorch's outputs on formula inputs) through ONNX
/// Runtime: one line per case, and a case beyond 1e-4 + 1e-3 x max|reference| makes the model unusable (exit 1).
/// </summary>
public sealed class ModelCheckReferenceTests
{
    private static readonly string[] LewmCases =
        ["encoder_b1", "encoder_b300", "predictor_b1_T1", "predictor_b1_T2", "predictor_b1_T3", "predictor_b300_T3"];

    [Fact]
    public void The_example_model_passes_every_reference_case_with_a_line_each()
    {
        var r = BadInputTests.Cli("model", "check", TestHome.SmallModel, "--threads", "1");

        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("reference  6 cases against PyTorch, tolerance 0.0001 + 0.001 x max|reference|", r.Out);
        foreach (var name in LewmCases)
            Assert.Matches($@"\n  {name} +max\|diff\| [0-9.e+-]+  rel [0-9.e+-]+  max\|ref\| [0-9.]+  ok\n", r.Out);
        Assert.Contains("result     usable", r.Out);
    }

    [Fact]
    public void The_json_report_holds_each_case()
    {
        var r = BadInputTests.Cli("model", "check", TestHome.SmallModel, "--threads", "1", "--json");

        Assert.True(r.Code == 0, r.Err);
        var references = JsonDocument.Parse(r.Out).RootElement.GetProperty("references");
        Assert.Equal(LewmCases, references.EnumerateArray().Select(c => c.GetProperty("case").GetString()));
        Assert.All(references.EnumerateArray(), c =>
        {
            Assert.True(c.GetProperty("passed").GetBoolean());
            Assert.True(c.GetProperty("max_abs_diff").GetDouble() <= c.GetProperty("tolerance").GetDouble());
        });
    }

    [Fact]
    public void A_tampered_reference_output_fails_the_check_naming_the_case()
    {
        using var dir = new TempDir();
        Copy(TestHome.SmallModel, dir.Path);
        // predictor_b1_T2's 11th value moved by 0.05: far beyond 1e-4 + 1e-3 x ~0.74.
        var file = Path.Combine(dir.Path, "reference", "predictor_b1_T2.bin");
        var values = File.ReadAllBytes(file);
        var original = BitConverter.ToSingle(values, 10 * sizeof(float));
        BitConverter.TryWriteBytes(values.AsSpan(10 * sizeof(float)), original + 0.05f);
        File.WriteAllBytes(file, values);

        var r = BadInputTests.Cli("model", "check", dir.Path, "--threads", "1");

        Assert.Equal(1, r.Code);
        Assert.Matches(@"\n  predictor_b1_T2 +max\|diff\| 5\.0e-02 .* FAIL\n", r.Out);
        Assert.Matches(@"\n  predictor_b1_T1 +max\|diff\| .* ok\n", r.Out);
        Assert.Contains("is not usable: reference case predictor_b1_T2 (predictor): max |ONNX Runtime - reference| 0.05 at index 10 " +
                        $"(expected {original + 0.05f:g6}, found ", r.Err);
        Assert.Contains("exceeds the tolerance 0.000838 = 0.0001 + 0.001 x max|reference|", r.Err);

        var skipped = BadInputTests.Cli("model", "check", dir.Path, "--threads", "1", "--no-reference");
        Assert.True(skipped.Code == 0, skipped.Err);
        Assert.Contains("reference  not run (--no-reference)", skipped.Out);
    }

    private static void Copy(string from, string to)
    {
        foreach (var d in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(d.Replace(from, to));
        foreach (var f in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(f, f.Replace(from, to));
    }
}
