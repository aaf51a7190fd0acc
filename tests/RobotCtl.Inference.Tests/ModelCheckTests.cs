using System.Text.Json;
using RobotCtl.Inference.WorldModel;

namespace RobotCtl.Inference.Tests;

public class ModelCheckTests
{
    [Fact]
    public void A_usable_model_reports_its_signature_with_symbolic_axes_and_timings()
    {
        var report = ModelCheck.Run(TestData.Example("vjepa2ac-small"), TestData.Cpu);

        Assert.True(report.Usable, string.Join("; ", report.Problems));
        var latents = report.Predictor!.Inputs.Single(i => i.Name == "latents");
        Assert.Equal("latents: float32[batch, time, 16, 32]", latents.ToString());
        Assert.Equal(["latents", "actions", "states"], report.Predictor.Inputs.Select(i => i.Name));
        Assert.Equal([16, 32], report.Spec!.LatentShape);
        Assert.Equal(7, report.Spec.StateDim);
        Assert.Equal("l1", report.Spec.Planner.Cost);
        Assert.True(report.Timings!.PredictorRunMs > 0);
        Assert.Equal(ExecutionProvider.Cpu, report.Provider);

        using var json = JsonDocument.Parse(report.ToJson());
        Assert.True(json.RootElement.GetProperty("usable").GetBoolean());
        Assert.Equal("float", json.RootElement.GetProperty("encoder").GetProperty("inputs")[0].GetProperty("element_type").GetString());
    }

    [Fact]
    public void Every_reference_case_is_run_unless_asked_not_to()
    {
        var report = ModelCheck.Run(TestData.Example("vjepa2ac-small"), TestData.Cpu);

        var cases = ReferenceCases.Read(TestData.Example("vjepa2ac-small"));
        Assert.Equal(cases.Select(c => c.Name), report.References!.Select(r => r.Case));
        Assert.All(report.References!, r => Assert.True(r.Passed && r.MaxAbsDiff < 1e-5, ReferenceCheck.Describe(r)));
        Assert.All(report.References!, r => Assert.Equal(1e-4 + 1e-3 * r.MaxReference, r.Tolerance, 12));

        Assert.Null(ModelCheck.Run(TestData.Example("vjepa2ac-small"), TestData.Cpu, references: false).References);
    }

    [Fact]
    public void A_broken_model_is_reported_with_its_problem_and_the_signature_read_so_far()
    {
        var report = ModelCheck.Run(TestData.Broken("action-block-mismatch"), TestData.Cpu);

        Assert.False(report.Usable);
        Assert.Contains(report.Problems, p => p.Contains("action.block 4 x action.dim 7"));
        Assert.NotNull(report.Predictor);
        Assert.Null(report.Timings);
    }
}
