using System.Text.Json.Nodes;

namespace RobotCtl.Host.Tests;

/// <summary>
/// `robotctl model import vjepa2-ac` on a facebookresearch/vjepa2 V-JEPA 2-AC checkpoint (tests/fixtures/vjepa2ac-checkpoint:
/// the authors' layout and key names with their module./backbone. prefixes, random weights, made by
/// robotctl_models.vjepa2ac_checkpoint), through the real CLI, Debian's PyTorch and ONNX Runtime; then `model score`
/// against the costs and latents the authors' own code computed on the same checkpoint (authors-reference/, made by
/// robotctl_models.vjepa2ac_authors_reference from their encoder, predictor, world-model wrapper, compute_new_pose and
/// l1 energy), a plan from a state, and bad checkpoints refused in one line.
/// </summary>
public sealed class Vjepa2AcImportTests : IClassFixture<Vjepa2AcImportTests.Imported>
{
    private static string Fixture(string path = "") => Path.Combine(TestHome.Root, "tests", "fixtures", "vjepa2ac-checkpoint", path);
    private static string Reference(string path = "") => Path.Combine(Fixture("authors-reference"), path);

    /// <summary>The tiny fixture imported once for the class (the import itself is checked here too).</summary>
    public sealed class Imported : IDisposable
    {
        public string Root { get; } = Directory.CreateTempSubdirectory("robotctl-vjepa2ac-").FullName;
        public string Model => Path.Combine(Root, "vjepa2ac-tiny");
        public (int Code, string Out, string Err) Result { get; }

        public Imported() => Result = BadInputTests.Cli("model", "import", "vjepa2-ac", Fixture("checkpoint.pt"),
            "--arch", Fixture("arch.json"), "--out", Model);

        public void Dispose() => Directory.Delete(Root, recursive: true);
    }

    private readonly Imported _imported;

    public Vjepa2AcImportTests(Imported imported) => _imported = imported;

    [Fact]
    public void The_imported_checkpoint_passes_model_check_with_the_authors_mpc_settings()
    {
        Assert.True(_imported.Result.Code == 0, _imported.Result.Err);
        Assert.Contains("model check: usable", _imported.Result.Out);
        var check = BadInputTests.Cli("model", "check", _imported.Model, "--json");
        Assert.True(check.Code == 0, check.Err);

        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(_imported.Model, "model.json")))!;
        Assert.Equal("vjepa2-ac", (string?)manifest["family"]);
        Assert.Equal([16, 52], manifest["latent"]!["shape"]!.AsArray().Select(n => (int)n!));
        Assert.Equal(4, (int)manifest["predictor"]!["history"]!);          // num_frames 8 // tubelet 2
        Assert.Equal("states", (string?)manifest["predictor"]!["states"]);
        Assert.Equal("ee-pose-euler-xyz", (string?)manifest["state"]!["integrate"]);
        var action = manifest["action"]!;
        Assert.Equal(1, (int)action["block"]!);
        Assert.All(action["mean"]!.AsArray(), v => Assert.Equal(0.0, (double)v!));
        Assert.All(action["std"]!.AsArray(), v => Assert.Equal(1.0, (double)v!));
        Assert.Equal([true, true, true, false, false, false, true], action["search"]!.AsArray().Select(n => (bool)n!));
        var planner = manifest["planner"]!;
        Assert.Equal(("cem", "l1", 400, 10, 10, 2, 1), ((string)planner["solver"]!, (string)planner["cost"]!, (int)planner["samples"]!,
            (int)planner["topk"]!, (int)planner["iterations"]!, (int)planner["horizon"]!, (int)planner["receding"]!));
        Assert.Equal(0.05, (double)planner["init_std"]!);
        Assert.Equal(("last", "mean", false), ((string)planner["cost_shape"]!, (string)planner["execute"]!, (bool)planner["elitism"]!));
        Assert.Equal((0.15, 0.15, 0.25), ((double)planner["mean_momentum"]!, (double)planner["std_momentum"]!, (double)planner["gripper_deadband"]!));
        // Their cem: every plan from mean 0, every sample drawn, the gripper's initial spread 1 against 0.05 m for xyz.
        Assert.Equal((false, false), ((bool)planner["warm_start"]!, (bool)planner["mean_sample"]!));
        Assert.Equal(1, (int)planner["context_frames"]!); // their MPC plans from the current frame alone
        Assert.Equal([0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 1.0], planner["init_std_per_dim"]!.AsArray().Select(n => (double)n!));
        Assert.Equal(1e-5, (double)manifest["import"]!["representation_norm"]!["eps"]!);
        Assert.Equal(["pos_embed"], manifest["import"]!["ignored_encoder_keys"]!.AsArray().Select(n => (string)n!));
    }

    [Theory]
    [InlineData("", 1)]   // their MPC's case: one context frame, three steps (the window grows 1 -> 3), a roll past pi
    [InlineData("h2", 2)] // two frames with the executed action between them; the current state at gimbal lock
    public void Model_score_gives_the_authors_costs_and_latents(string folder, int frames)
    {
        var d = Path.Combine(Reference(), folder);
        var args = new List<string> { "model", "score", _imported.Model, "--context" };
        args.AddRange(Enumerable.Range(0, frames).Select(i => Path.Combine(d, $"ctx_{i}.png")));
        if (frames > 1) args.AddRange(["--context-actions", Path.Combine(d, "context-actions.json")]);
        args.AddRange(["--context-states", Path.Combine(d, "context-states.json"), "--goal", Path.Combine(d, "goal.png"),
            "--candidates", Path.Combine(d, "candidates.json"), "--latents", "--json"]);

        var r = BadInputTests.Cli([.. args]);

        Assert.True(r.Code == 0, r.Err);
        var score = JsonNode.Parse(r.Out)!;
        var refs = JsonNode.Parse(File.ReadAllText(Path.Combine(d, "refs.json")))!;
        // Measured when the references were made: <= 5e-6 of the reference's RMS; 1e-4 catches any real difference
        // (the old Euler read-back at gimbal lock moved the h2 latents by 19% of their RMS, dropping the rotation
        // deltas from the state rollout by 68%).
        AssertClose(Flat(refs["costs"]), Flat(score["costs"]), "costs");
        AssertClose(Flat(refs["final_latents"]), Flat(score["latents"]), "final latents");
        AssertClose(Flat(refs["goal_latent"]), Flat(score["goal_latent"]), "goal latent");
        AssertClose(Flat(refs["context_latents"]), Flat(score["context_latents"]), "context latents");
        Assert.Equal((int)refs["best"]!, (int)score["best"]!);
    }

    [Fact]
    public void The_imported_model_plans_from_an_image_and_a_state()
    {
        var r = BadInputTests.Cli("plan", "--model", _imported.Model, "--observation", Reference("ctx_0.png"), "--goal", Reference("goal.png"),
            "--state", "0.4,0,0.3,0,0,0,0.5", "--samples", "32", "--topk", "4", "--iterations", "2", "--json");

        Assert.True(r.Code == 0, r.Err);
        foreach (var step in JsonNode.Parse(r.Out)!["actions"]!.AsArray())
        {
            var values = Flat(step);
            Assert.Equal(7, values.Length);
            Assert.All(values[3..6], v => Assert.Equal(0f, v)); // their cem holds the rotations at zero
        }
    }

    [Fact]
    public void Weights_stored_as_external_data_load_in_robotctl()
    {
        // The importer on its own, as the parity scripts run it: it checks its result with `robotctl model check`.
        var output = Path.Combine(_imported.Root, "external");
        var r = Python("-m", "robotctl_models.vjepa2ac_import", Fixture("checkpoint.pt"),
            "--arch", Fixture("arch.json"), "--out", output, "--external-data", "always");

        Assert.True(r.Code == 0, r.Err);
        Assert.True(File.Exists(Path.Combine(output, "encoder.onnx.data")) && File.Exists(Path.Combine(output, "predictor.onnx.data")));
        Assert.Contains("model check", r.Err);
        Assert.Matches(@"reference  \d+ cases against PyTorch", r.Err);
        Assert.Contains("result     usable", r.Err);
    }

    public static TheoryData<string, string[]> BrokenCheckpoints() => new()
    {
        { "missing-file", ["no such file"] },
        { "not-torch", ["not a loadable torch file"] },
        { "no-predictor", ["no 'predictor' key", "found keys: encoder"] },
        { "missing-and-unexpected", ["['predictor'] does not match", "1 missing key (predictor_blocks.1.mlp.fc2.bias)",
            "2 unexpected keys (predictor_blocks.2.norm1.bias, predictor_blocks.2.norm1.weight)"] },
        { "wrong-shape", ["['encoder'] blocks.0.mlp.fc1.weight", "implies shape [156, 52], found [104, 52]", "(and 5 more keys of the wrong shape)"] },
        { "unknown-constructor", ["--arch", "encoder.name", "vit_enormous"] },
        { "fixed-argument", ["--arch", "encoder.kwargs.embed_dim", "vit_tiny() sets embed_dim itself"] },
        { "arch-not-json", ["--arch", "not JSON"] },
        { "out-not-empty", ["--out", "exists and is not empty"] },
    };

    [Theory]
    [MemberData(nameof(BrokenCheckpoints))]
    public void A_bad_checkpoint_is_one_line_exit_2_and_leaves_no_model_directory(string kind, string[] fragments)
    {
        var work = Path.Combine(_imported.Root, $"broken-{kind}");
        Directory.CreateDirectory(work);
        var checkpoint = Fixture("checkpoint.pt");
        var arch = Fixture("arch.json");
        var output = Path.Combine(_imported.Root, $"out-{kind}");
        switch (kind)
        {
            case "missing-file":
                checkpoint = Path.Combine(work, "nope.pt");
                break;
            case "not-torch":
                checkpoint = Path.Combine(work, "text.pt");
                File.WriteAllText(checkpoint, "not a checkpoint\n");
                break;
            case "no-predictor":
                checkpoint = EditCheckpoint(work, "del data['predictor']");
                break;
            case "missing-and-unexpected":
                checkpoint = EditCheckpoint(work,
                    "p = data['predictor']; del p['module.predictor_blocks.1.mlp.fc2.bias']; " +
                    "p['module.predictor_blocks.2.norm1.weight'] = torch.ones(52); p['module.predictor_blocks.2.norm1.bias'] = torch.zeros(52)");
                break;
            case "wrong-shape": // the weights of mlp_ratio 2 under an arch of mlp_ratio 3
                arch = EditArch(work, a => a["encoder"]!["kwargs"]!["mlp_ratio"] = 3.0);
                break;
            case "unknown-constructor":
                arch = EditArch(work, a => a["encoder"]!["name"] = "vit_enormous");
                break;
            case "fixed-argument":
                arch = EditArch(work, a => a["encoder"]!["name"] = "vit_tiny");
                break;
            case "arch-not-json":
                arch = Path.Combine(work, "arch.json");
                File.WriteAllText(arch, "{\"encoder\": {\"name\": \"vit_tiny\",,}}");
                break;
            case "out-not-empty":
                Directory.CreateDirectory(output);
                File.WriteAllText(Path.Combine(output, "keep.txt"), "mine");
                break;
        }

        var r = BadInputTests.Cli("model", "import", "vjepa2-ac", checkpoint, "--arch", arch, "--out", output);

        var line = Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("robotctl model import:", StringComparison.Ordinal));
        Assert.True(r.Code == 2, $"exit {r.Code}: {r.Err}");
        foreach (var f in fragments) Assert.Contains(f, line);
        Assert.DoesNotContain("Traceback", r.Err);
        if (kind == "out-not-empty")
            Assert.Equal(["keep.txt"], Directory.GetFileSystemEntries(output).Select(Path.GetFileName));
        else
            Assert.False(Directory.Exists(output), "a partial model directory was left behind");
        Assert.Empty(Directory.GetFileSystemEntries(_imported.Root, ".out-*")); // nor a temporary one beside it
    }

    /// <summary>A copy of the fixture checkpoint with a Python edit applied to `data` (the loaded dict).</summary>
    private static string EditCheckpoint(string work, string edit)
    {
        var path = Path.Combine(work, "checkpoint.pt");
        var r = Python("-c", $"import sys, torch; data = torch.load(sys.argv[1]); {edit}; torch.save(data, sys.argv[2])",
            Fixture("checkpoint.pt"), path);
        Assert.True(r.Code == 0, r.Err);
        return path;
    }

    private static string EditArch(string work, Action<JsonNode> edit)
    {
        var arch = JsonNode.Parse(File.ReadAllText(Fixture("arch.json")))!;
        edit(arch);
        var path = Path.Combine(work, "arch.json");
        File.WriteAllText(path, arch.ToJsonString());
        return path;
    }

    /// <summary>Python with the models/ package importable and this test run's robotctl for its model checks.</summary>
    private static (int Code, string Out, string Err) Python(params string[] args) =>
        TestHome.RunProcess(Environment.GetEnvironmentVariable("ROBOTCTL_PYTHON") ?? "/usr/bin/python3", args,
            new Dictionary<string, string>
            {
                ["OPENBLAS_CORETYPE"] = Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") ?? "HASWELL",
                ["PYTHONPATH"] = Path.Combine(TestHome.Root, "models"),
                ["ROBOTCTL_BIN"] = $"dotnet {Path.Combine(AppContext.BaseDirectory, "robotctl.dll")}",
            });

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
}
