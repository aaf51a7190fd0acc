using System.Text.Json;

namespace RobotCtl.Host.Tests;

/// <summary>
/// The training pipeline end to end at toy size, through the real parts: `scripts/train-workcell --toy` collects
/// episodes with the robotctl CLI, exports them to HDF5, trains with Debian's PyTorch, exports ONNX and checks it with
/// `model check` (its reference cases: ONNX Runtime against PyTorch); then `robotctl eval` drives the new model in the
/// closed loop.
/// </summary>
[Trait("Category", "Slow")]
public sealed class TrainingPipelineTests
{
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "robotctl.dll");

    private static (int Code, string Out, string Err) Run(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null) =>
        TestHome.RunProcess(file, args, env, timeoutSeconds: 600);

    [Fact]
    public void Toy_pipeline_trains_exports_checks_and_evaluates_a_model()
    {
        using var dir = new TempDir();
        var model = dir.File("toy-model");
        var (code, output, err) = Run("bash", [Path.Combine(TestHome.Root, "scripts", "train-workcell"), "--toy", "--out", model, "--work", dir.File("work"),
            // SIGReg on the free dims and the residual predictor are the defaults (docs/EVALUATION.md); model check
            // compares the residual predictor's shared-context graph with its plain graph on every split.
            // On-policy aggregation: the round-1 model's planner collects one push and one reach episode (24 commands
            // at toy size), and round 1's model is trained on, on both sets, for the default --finetune (3 at toy size).
            "--onpolicy", "1"],
            new Dictionary<string, string> { ["ROBOTCTL_BIN"] = $"dotnet {Cli}", ["ROBOTCTL_SKIP_SETUP"] = "1" });
        Assert.True(code == 0, $"train-workcell --toy exited {code}:\n{err}");
        foreach (var f in new[] { "model.json", "encoder.onnx", "predictor.onnx", "training/loss.jsonl", "training/report.json", "training/training.log" })
            Assert.True(File.Exists(Path.Combine(model, f)), $"{f} missing from the exported model");
        Assert.Contains("ONNX Runtime parity checked", err);
        Assert.Contains("result     usable", err);

        var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "training", "report.json"))).RootElement;
        // Round 2 went on from round 1's weights for --finetune's default steps, not --train-steps (4 at toy size) from
        // scratch.
        Assert.Equal(3, report.GetProperty("steps").GetInt32());
        Assert.EndsWith(Path.Combine("work", "run1", "weights.pt"), report.GetProperty("init").GetString());
        var round1 = JsonDocument.Parse(File.ReadAllText(dir.File(Path.Combine("work", "run1", "report.json")))).RootElement;
        Assert.Equal(4, round1.GetProperty("steps").GetInt32());
        Assert.Equal(JsonValueKind.Null, round1.GetProperty("init").ValueKind);
        Assert.Equal(3, report.GetProperty("heldout_open_loop_mse").GetArrayLength());
        var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "model.json"))).RootElement;
        Assert.Equal("sum", manifest.GetProperty("planner").GetProperty("cost_shape").GetString());
        Assert.EndsWith(Path.Combine("run1", "weights.pt"), manifest.GetProperty("generator").GetProperty("init").GetString());
        // The recipe's data: the mixed policy's episodes and the push policy's (3 + 2 at toy size, 25 frames each),
        // then the planner's own push and reach episode (25 frames each).
        Assert.Equal((7, 175), (report.GetProperty("episodes").GetInt32(), report.GetProperty("frames").GetInt32()));
        Assert.EndsWith("onpolicy.h5", report.GetProperty("data").GetString());
        Assert.True(File.Exists(dir.File(Path.Combine("work", "round1", "model.json"))), "the first round's model is kept");
        Assert.Contains("policy planner, push scenes", output);
        Assert.Contains("policy planner, reach scenes", output);
        // The collections' report lines travel with the model: what made its on-policy data.
        var collectLog = File.ReadAllText(Path.Combine(model, "training", "onpolicy-collect.log"));
        Assert.Contains("policy planner, push scenes", collectLog);
        Assert.Contains("policy planner, reach scenes", collectLog);
        Assert.DoesNotContain("collect [", collectLog);   // the report lines only, not the progress lines
        // The state term ran, and model.json says what the latent's first dimensions were trained to equal.
        Assert.True(report.GetProperty("final_running_loss").GetProperty("state_mse").GetDouble() > 0);
        var stateTerm = manifest.GetProperty("generator").GetProperty("state_term");
        Assert.Equal(["effector_x", "effector_y", "block_x", "block_y"], stateTerm.GetProperty("dims").EnumerateArray().Select(d => d.GetString()));
        Assert.Equal([0.15, 0.15, 0.03, 0.03], stateTerm.GetProperty("scale_m").EnumerateArray().Select(d => Math.Round(d.GetDouble(), 6)));
        Assert.False(stateTerm.GetProperty("sigreg_on_state_dims").GetBoolean());
        Assert.True(manifest.GetProperty("generator").GetProperty("arch").GetProperty("residual").GetBoolean());
        Assert.Contains("SIGReg on free dims, --residual", err);

        var (evalCode, json, evalErr) = Run("dotnet", [Cli, "eval", "--task", "reach", "--episodes", "2", "--model", model, "--json",
            "--samples", "16", "--iterations", "2"]);
        Assert.True(evalCode == 0, $"eval exited {evalCode}:\n{evalErr}");
        var result = JsonDocument.Parse(json).RootElement;
        Assert.Equal("reach", result.GetProperty("task").GetString());
        Assert.Equal(2, result.GetProperty("episodes").GetInt32());
        Assert.Equal(2, result.GetProperty("per_episode").GetArrayLength());
        var rate = result.GetProperty("success_rate").GetDouble();
        Assert.InRange(rate, 0, 1);
        Assert.Equal(2, result.GetProperty("ci95").GetArrayLength());
        Assert.True(double.IsFinite(result.GetProperty("final_error_cm_mean").GetDouble()));
    }
}

/// <summary>
/// `scripts/train-workcell`'s option checks, which run before anything is built or collected: round 2's default
/// (--finetune 2000, 3 at toy size) applies only where there is a round 2, an explicit --finetune without one is
/// refused, and the shipped recipe's options (SIGReg on the free dims, the residual predictor) can be turned off.
/// </summary>
public sealed class TrainWorkcellOptionTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) =>
        TestHome.RunProcess("bash", [Path.Combine(TestHome.Root, "scripts", "train-workcell"), .. args], timeoutSeconds: 60);

    [Theory]
    [InlineData("--onpolicy", "0")]
    [InlineData("--toy", "--onpolicy", "0")]
    public void Without_on_policy_data_the_default_round_2_does_not_apply(params string[] args)
    {
        // A bad later option stops the script at its checks; the error must be that one, not a --finetune refusal.
        var (code, _, err) = Run([.. args, "--sigreg-dims", "bad"]);
        Assert.Equal(2, code);
        Assert.Contains("--sigreg-dims expects all or free, found 'bad'", err);
        Assert.DoesNotContain("finetune", err);
    }

    [Fact]
    public void The_shipped_options_can_be_turned_off()
    {
        // --no-residual and --sigreg-dims all parse (a bad later option stops the script at its checks), and --help
        // prints the whole header, down to its last line, and no code.
        var (code, _, err) = Run("--no-residual", "--sigreg-dims", "all", "--onpolicy", "bad");
        Assert.Equal(2, code);
        Assert.Contains("--onpolicy expects a whole number, found 'bad'", err);
        var (helpCode, help, _) = Run("--help");
        Assert.Equal(0, helpCode);
        Assert.Contains("--no-residual", help);
        Assert.Contains("onpolicy-collect.log land in <out>/training/.", help);
        Assert.DoesNotContain("set -euo", help);
    }

    [Fact]
    public void An_explicit_finetune_without_on_policy_data_is_refused()
    {
        var (code, _, err) = Run("--onpolicy", "0", "--finetune", "5");
        Assert.Equal(2, code);
        Assert.Contains("--finetune 5 trains round 2 on from round 1, and --onpolicy 0 has no round 2", err);
    }
}
