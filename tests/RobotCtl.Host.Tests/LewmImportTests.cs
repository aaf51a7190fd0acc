using System.Text.Json;
using System.Text.Json.Nodes;

namespace RobotCtl.Host.Tests;

/// <summary>
/// `robotctl model import lewm` on stable-worldmodel checkpoints (tests/fixtures/lewm-checkpoint*: the authors' layout and
/// key names, random weights, made by robotctl_models.lewm_checkpoint), through the real CLI, Debian's PyTorch and ONNX
/// Runtime; then `model score` against the costs and latents the authors' own code computed on the same checkpoint
/// (tests/fixtures/lewm-checkpoint/authors-reference, made by robotctl_models.lewm_authors_reference from stable-worldmodel's
/// LeWM.rollout + GoalMSE and the Hugging Face ViTModel).
/// </summary>
public sealed class LewmImportTests : IClassFixture<LewmImportTests.Imported>
{
    private static string Fixture(string name) => Path.Combine(TestHome.Root, "tests", "fixtures", name);
    private static string Reference(string path = "") => Path.Combine(Fixture("lewm-checkpoint"), "authors-reference", path);

    /// <summary>The tiny fixture imported once for the class (the import itself is checked here too).</summary>
    public sealed class Imported : IDisposable
    {
        public string Root { get; } = Directory.CreateTempSubdirectory("robotctl-lewm-").FullName;
        public string Model => Path.Combine(Root, "lewm-tiny");
        public (int Code, string Out, string Err) Result { get; }

        public Imported() => Result = BadInputTests.Cli("model", "import", "lewm", Fixture("lewm-checkpoint"), "--out", Model);

        public void Dispose() => Directory.Delete(Root, recursive: true);
    }

    private readonly Imported _imported;

    public LewmImportTests(Imported imported) => _imported = imported;

    [Fact]
    public void The_imported_checkpoint_is_a_model_directory_that_passes_model_check_with_the_authors_planner_defaults()
    {
        Assert.True(_imported.Result.Code == 0, _imported.Result.Err);
        // robotctl checked the result once, its reference cases included; the importer left that check to it.
        Assert.Matches(@"model check: usable \(Cpu, \d+ reference cases match PyTorch\)", _imported.Result.Out);
        Assert.Contains("reference cases written (checked by the caller)", _imported.Result.Err);
        var check = BadInputTests.Cli("model", "check", _imported.Model, "--json");
        Assert.True(check.Code == 0, check.Err);

        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(_imported.Model, "model.json")))!;
        Assert.Equal("lewm", (string?)manifest["family"]);
        Assert.Equal(3, (int)manifest["predictor"]!["history"]!);
        Assert.Equal(5, (int)manifest["action"]!["block"]!);
        var planner = manifest["planner"]!;
        Assert.Equal(("cem", "mse", 300, 30, 30, 5, 5), ((string)planner["solver"]!, (string)planner["cost"]!, (int)planner["samples"]!,
            (int)planner["topk"]!, (int)planner["iterations"]!, (int)planner["horizon"]!, (int)planner["receding"]!));
        Assert.Equal("last", (string?)planner["cost_shape"]);
        // Their CEMSolver executes the final elite mean and carries no elite over.
        Assert.Equal("mean", (string?)planner["execute"]);
        Assert.False((bool)planner["elitism"]!);
        var text = BadInputTests.Cli("model", "check", _imported.Model).Out;
        Assert.Contains("executes the mean", text);
        // The shared-context graph, checked against the predictor on every split of every window when loading.
        Assert.Equal("predictor.shared.onnx", (string?)manifest["predictor"]!["shared_context"]!["file"]);
        Assert.Matches(@"shared-context graph computes the predictor's last position on every split of every window: largest difference \d\.\de-0[5-9]", text);
        Assert.Equal("stable_worldmodel.wm.lewm.LeWM", (string?)manifest["import"]!["targets"]!["model"]);
    }

    [Theory]
    [InlineData("", 3)]   // three context frames with the two executed blocks between them
    [InlineData("h1", 1)] // one frame: the predictor's window grows 1 -> 3 over the horizon
    public void Model_score_gives_the_authors_costs_and_latents(string folder, int frames)
    {
        var d = Path.Combine(Reference(), folder);
        var args = new List<string> { "model", "score", _imported.Model, "--context" };
        args.AddRange(Enumerable.Range(0, frames).Select(i => Path.Combine(d, $"ctx_{i}.png")));
        if (frames > 1) args.AddRange(["--context-actions", Path.Combine(d, "context-actions.json")]);
        args.AddRange(["--goal", Path.Combine(d, "goal.png"), "--candidates", Path.Combine(d, "candidates.json"), "--latents", "--json"]);

        var r = BadInputTests.Cli([.. args]);

        Assert.True(r.Code == 0, r.Err);
        var score = JsonNode.Parse(r.Out)!;
        var refs = JsonNode.Parse(File.ReadAllText(Path.Combine(d, "refs.json")))!;
        // Measured when the references were made: <= 1.1e-6 of the reference's RMS; 1e-4 catches any real difference
        // (a wrong window, pairing, norm or cost moves costs by whole percents).
        AssertClose(Flat(refs["costs"]), Flat(score["costs"]), "costs");
        AssertClose(Flat(refs["final_latents"]), Flat(score["latents"]), "final latents");
        AssertClose(Flat(refs["goal_latent"]), Flat(score["goal_latent"]), "goal latent");
        AssertClose(Flat(refs["context_latents"]), Flat(score["context_latents"]), "context latents");
        Assert.Equal((int)refs["best"]!, (int)score["best"]!);
    }

    [Fact]
    public void A_two_dim_checkpoint_maps_onto_dx_dy_with_statistics_from_its_hdf5_actions_and_plans_from_a_history()
    {
        var out1 = Path.Combine(_imported.Root, "a2-h5");
        var r = BadInputTests.Cli("model", "import", "lewm", Fixture("lewm-checkpoint-a2"), "--out", out1,
            "--action-stats", Path.Combine(Fixture("lewm-checkpoint-a2"), "actions.h5"));
        Assert.True(r.Code == 0, r.Err);
        var action = JsonNode.Parse(File.ReadAllText(Path.Combine(out1, "model.json")))!["action"]!;
        var stats = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixture("lewm-checkpoint-a2"), "action-stats.json")))!;
        Assert.Equal(["dx", "dy"], action["checkpoint_dims"]!.AsArray().Select(n => (string)n!));
        Assert.Equal([true, true, false, false, false, false, false], action["search"]!.AsArray().Select(n => (bool)n!));
        // Computed from the HDF5 'action' dataset as stable-worldmodel's scaler does, equal to the fixture's stats file.
        Assert.Equal(Flat(stats["mean"]), Flat(action["mean"]).Take(2).ToArray(), new FloatTolerance(1e-6f));
        Assert.Equal(Flat(stats["std"]), Flat(action["std"]).Take(2).ToArray(), new FloatTolerance(1e-6f));

        // A plan from two context frames and the block between them (in the checkpoint's units: 5 x (dx, dy)).
        var actions = Path.Combine(_imported.Root, "a2-context-actions.json");
        File.WriteAllText(actions, "[[0.5, -0.5, 0.25, 0, 0, 0.1, -1, 1, 0.3, 0.2]]");
        var plan = BadInputTests.Cli("plan", "--model", out1, "--context", Reference("ctx_1.png"), Reference("ctx_2.png"),
            "--context-actions", actions, "--goal", Reference("goal.png"), "--samples", "16", "--topk", "4", "--iterations", "2", "--json");
        Assert.True(plan.Code == 0, plan.Err);
        foreach (var step in JsonNode.Parse(plan.Out)!["actions"]!.AsArray())
        {
            var values = Flat(step);
            Assert.Equal(7, values.Length);
            Assert.All(values[2..], v => Assert.Equal(0f, v)); // only dx, dy move
        }

        // The checkpoint's own block width is what --context-actions takes: 7-D blocks are refused, naming the layout.
        File.WriteAllText(actions, "[[" + string.Join(", ", Enumerable.Repeat("0", 35)) + "]]");
        var wrong = BadInputTests.Cli("plan", "--model", out1, "--context", Reference("ctx_1.png"), Reference("ctx_2.png"),
            "--context-actions", actions, "--goal", Reference("goal.png"));
        BadInputTests.AssertBadInput(wrong, "--context-actions", "block 0", "expected 10 values: block 5 x 2 dims (dx, dy)", "found 35");
    }

    public static TheoryData<string, string[]> BrokenCheckpoints() => new()
    {
        { "no-weights", ["no weights.pt"] },
        { "not-lewm", ["_target_", "stable_worldmodel.wm.lewm.LeWM", "PLDM"] },
        { "deeper-config", ["missing keys", "predictor.transformer.layers.2"] },
        { "other-action-dims", ["action_encoder.patch_embed.weight", "config.json implies shape [10, 35, 1], found [10, 10, 1]"] },
        { "stats-of-three", ["--action-stats", "3 action dims", "has 2"] },
    };

    [Theory]
    [MemberData(nameof(BrokenCheckpoints))]
    public void A_bad_checkpoint_is_one_line_exit_2_and_leaves_no_model_directory(string kind, string[] fragments)
    {
        var source = Path.Combine(_imported.Root, $"broken-{kind}");
        var extra = new List<string>();
        CopyFixture(kind == "other-action-dims" || kind == "stats-of-three" ? "lewm-checkpoint-a2" : "lewm-checkpoint", source);
        var config = Path.Combine(source, "config.json");
        switch (kind)
        {
            case "no-weights":
                File.Delete(Path.Combine(source, "weights.pt"));
                break;
            case "not-lewm":
                EditConfig(config, c => c["_target_"] = "stable_worldmodel.wm.pldm.PLDM");
                break;
            case "deeper-config":
                EditConfig(config, c => c["predictor"]!["depth"] = (int)c["predictor"]!["depth"]! + 1);
                break;
            case "other-action-dims": // the 2-dim weights under a config for 7 dims
                EditConfig(config, c => c["action_encoder"]!["input_dim"] = 35);
                break;
            case "stats-of-three":
                var stats = Path.Combine(source, "stats3.json");
                File.WriteAllText(stats, """{"mean": [0, 0, 0], "std": [1, 1, 1]}""");
                extra.AddRange(["--action-stats", stats]);
                break;
        }
        var output = Path.Combine(_imported.Root, $"out-{kind}");

        var r = BadInputTests.Cli(["model", "import", "lewm", source, "--out", output, .. extra]);

        var line = Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("robotctl model import:", StringComparison.Ordinal));
        Assert.True(r.Code == 2, $"exit {r.Code}: {r.Err}");
        foreach (var f in fragments) Assert.Contains(f, line);
        Assert.DoesNotContain("Traceback", r.Err);
        Assert.False(Directory.Exists(output), "a partial model directory was left behind");
        Assert.Empty(Directory.GetFileSystemEntries(_imported.Root, "out-*")); // nor a temporary one beside it
    }

    [Fact]
    public void Score_refuses_candidates_of_the_wrong_width_naming_the_element() =>
        BadInputTests.AssertBadInput(BadInputTests.Cli("model", "score", _imported.Model, "--context", Reference("ctx_2.png"),
                "--goal", Reference("goal.png"), "--candidates", Reference("context-actions.json")),
            "--candidates", "[0]", "expected an array of numbers");

    private static void CopyFixture(string name, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in new[] { "config.json", "weights.pt" }) File.Copy(Path.Combine(Fixture(name), file), Path.Combine(destination, file));
    }

    private static void EditConfig(string path, Action<JsonNode> edit)
    {
        var config = JsonNode.Parse(File.ReadAllText(path))!;
        edit(config);
        File.WriteAllText(path, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static float[] Flat(JsonNode? node) => node switch
    {
        JsonArray a => a.SelectMany(Flat).ToArray(),
        JsonValue v => [v.GetValue<float>()],
        _ => throw new InvalidDataException($"expected numbers, found {node?.ToJsonString() ?? "null"}"),
    };

    private static void AssertClose(float[] reference, float[] actual, string what)
    {
        Assert.Equal(reference.Length, actual.Length);
        var rms = Math.Sqrt(reference.Average(v => (double)v * v));
        var worst = reference.Zip(actual, (a, b) => Math.Abs((double)a - b)).Max();
        Assert.True(worst <= 1e-4 * rms, $"{what}: max |robotctl - authors| {worst:G3} > 1e-4 x reference RMS {rms:G3}");
    }

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance * Math.Max(1f, Math.Abs(x));
        public int GetHashCode(float obj) => 0;
    }
}
