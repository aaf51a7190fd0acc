using System.Text.Json.Nodes;
using RobotCtl.Core.WorldModel;
using RobotCtl.Inference.WorldModel;

namespace RobotCtl.Inference.Tests;

/// <summary>Every broken model (tests/fixtures/broken-models) is refused with a message naming its file and problem.</summary>
public class BrokenModelTests
{
    [Theory]
    [InlineData("truncated-onnx", "encoder.onnx", "cannot load")]
    [InlineData("missing-predictor", "predictor.onnx", "predictor.file")]
    [InlineData("unknown-input-name", "predictor.onnx", "'acts'")]
    [InlineData("latent-shape-mismatch", "encoder.onnx", "latent.shape[0]")]
    [InlineData("action-block-mismatch", "predictor.onnx", "action.block 4 x action.dim 7")]
    [InlineData("zero-std", "model.json", "action.std[2] must be > 0, found 0")]
    [InlineData("topk-gt-samples", "model.json", "planner.topk must be <= planner.samples (20), found 40")]
    [InlineData("nan-predictor", "predictor.onnx", "not finite")]
    [InlineData("not-json", "model.json", "not valid JSON at line 1")]
    [InlineData("shared-context-differs", "predictor.shared.onnx", "the shared-context graph does not compute the predictor")]
    [InlineData("shared-context-every-position", "predictor.shared.onnx", "this graph gives every position, as shared-context graphs exported before 2026-12-07 did: export it again")]
    public void Broken_models_are_refused_naming_the_file_and_the_problem(string name, string file, string problem)
    {
        var directory = TestData.Broken(name);

        var error = Assert.Throws<WorldModelException>(() => OnnxWorldModel.Load(directory, TestData.Cpu));

        Assert.Contains(Path.Combine(directory, file), error.Message);
        Assert.Contains(problem, error.Message);
        Assert.DoesNotContain("\n", error.Message);
    }

    [Fact]
    public void Unknown_input_name_says_which_field_named_it_and_what_the_graph_has()
    {
        var error = Assert.Throws<WorldModelException>(() => OnnxWorldModel.Load(TestData.Broken("unknown-input-name"), TestData.Cpu));

        Assert.Contains("predictor.actions", error.Message);
        Assert.Contains("'actions'", error.Message);
    }

    [Fact]
    public void The_good_tiny_model_loads_and_reports_its_dry_run()
    {
        using var model = OnnxWorldModel.Load(TestData.Broken("good-tiny"), TestData.Cpu);

        Assert.Equal([16], model.Spec.LatentShape);
        Assert.Equal(35, model.Spec.ActionBlockSize);
        Assert.True(model.Timings.EncoderFirstRunMs > 0 && model.Timings.PredictorFirstRunMs > 0);
    }

    public static TheoryData<string, string> ManifestEdits() => new()
    {
        { """{"format": 2}""", "format must be 1" },
        { """{"family": "gpt"}""", "family must be one of \"lewm\", \"vjepa2-ac\", \"dino-wm\", found \"gpt\"" },
        { """{"image": {"width": 0}}""", "image.width must be a positive integer, found 0" },
        { """{"image": {"scale": -1}}""", "image.scale must be a number > 0, found -1" },
        { """{"image": {"mean": [0.5, 0.5]}}""", "image.mean must be an array of 3 numbers, found [0.5,0.5]" },
        { """{"image": {"std": [0.2, 0, 0.2]}}""", "image.std[1] must be > 0, found 0" },
        { """{"encoder": {"input": ""}}""", "encoder.input must be a non-empty string" },
        { """{"encoder": {"file": "nope.onnx"}}""", "nope.onnx: file not found (named by encoder.file" },
        { """{"predictor": {"history": 0}}""", "predictor.history must be a positive integer, found 0" },
        { """{"predictor": {"states": "states"}}""", "state must be given because predictor.states names an input" },
        { """{"latent": {"shape": []}}""", "latent.shape must be a non-empty array of positive integers, found []" },
        { """{"latent": {"shape": [16, -2]}}""", "latent.shape[1] must be a positive integer, found -2" },
        { """{"action": {"dim": 0}}""", "action.dim must be a positive integer, found 0" },
        { """{"action": {"mean": [0, 0, 0]}}""", "action.mean must be an array of 7 numbers" },
        { """{"action": {"std": [1, 1, 1, -1, 1, 1, 1]}}""", "action.std[3] must be > 0, found -1" },
        { """{"action": {"search": [true, true]}}""", "action.search must be an array of 7 booleans" },
        { """{"state": {"dim": 7, "integrate": "teleport"}}""", "state.integrate must be one of \"ee-pose-euler-xyz\"" },
        { """{"planner": {"cost": "l2"}}""", "planner.cost must be one of \"mse\", \"l1\", found \"l2\"" },
        { """{"planner": {"samples": 0}}""", "planner.samples must be a positive integer, found 0" },
        { """{"planner": {"iterations": 1.5}}""", "planner.iterations must be a positive integer, found 1.5" },
        { """{"planner": {"init_std": 0}}""", "planner.init_std must be a number > 0, found 0" },
        { """{"planner": {"horizon": 2, "receding": 3}}""", "planner.receding must be <= planner.horizon (2), found 3" },
        { """{"action": {"checkpoint_dims": ["dx", "up"]}}""", "action.checkpoint_dims must be null or an array of 1..7 distinct axis names (dx, dy, dz, droll, dpitch, dyaw, gripper), found [\"dx\",\"up\"]" },
        { """{"action": {"checkpoint_dims": ["dx", "dx"]}}""", "action.checkpoint_dims must be null or an array of 1..7 distinct axis names" },
        { """{"action": {"checkpoint_dims": []}}""", "action.checkpoint_dims must be null or an array of 1..7 distinct axis names" },
        { """{"planner": {"execute": "median"}}""", "planner.execute must be one of \"best\", \"mean\", found \"median\"" },
        { """{"planner": {"elitism": "no"}}""", "planner.elitism must be true, false or absent, found \"no\"" },
        { """{"planner": {"init_std_per_dim": [1, 1]}}""", "planner.init_std_per_dim must be an array of 7 numbers, found [1,1]" },
        { """{"planner": {"init_std_per_dim": [1, 1, 1, 1, 1, 1, 0]}}""", "planner.init_std_per_dim[6] must be > 0, found 0" },
        { """{"planner": {"latent_weights": []}}""", "planner.latent_weights must be an array of 1..16 weights >= 0 (the latent's first dimensions), found []" },
        { """{"planner": {"latent_weights": [1, -1]}}""", "planner.latent_weights[1] must be a finite number >= 0, found -1" },
        { """{"planner": {"latent_weights": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}}""", "planner.latent_weights must have at least one weight > 0" },
        { """{"planner": {"warm_start": 1}}""", "planner.warm_start must be true, false or absent, found 1" },
        { """{"planner": {"context_frames": 0}}""", "planner.context_frames must be a positive integer, found 0" },
        { """{"planner": {"context_frames": 4}}""", "planner.context_frames must be <= predictor.history (3), found 4" },
        { """{"planner": {"mean_sample": "yes"}}""", "planner.mean_sample must be true, false or absent, found \"yes\"" },
        { """{"predictor": {"shared_context": "yes"}}""", "predictor.shared_context must be an object" },
        { """{"predictor": {"shared_context": {"file": "gone.onnx"}}}""", "gone.onnx: file not found (named by predictor.shared_context.file" },
        { """{"predictor": {"shared_context": {"context_latents": "ctx"}}}""", "has no input 'ctx' (named by predictor.shared_context.context_latents" },
    };

    /// <summary>Each check of models/README.md's "What loading checks", on an edited copy of the good model.</summary>
    [Theory]
    [MemberData(nameof(ManifestEdits))]
    public void Every_manifest_check_names_the_field_expected_and_found(string edit, string expected)
    {
        var directory = CopyGood();
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "model.json")))!.AsObject();
            Merge(json, JsonNode.Parse(edit)!.AsObject());
            File.WriteAllText(Path.Combine(directory, "model.json"), json.ToJsonString());

            var error = Assert.Throws<WorldModelException>(() => OnnxWorldModel.Load(directory, TestData.Cpu));

            Assert.Contains(expected, error.Message);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Checkpoint_dims_name_the_axes_an_imported_checkpoints_actions_are()
    {
        var directory = CopyGood();
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "model.json")))!.AsObject();
            Merge(json, JsonNode.Parse("""{"action": {"checkpoint_dims": ["dy", "dx"]}}""")!.AsObject());
            File.WriteAllText(Path.Combine(directory, "model.json"), json.ToJsonString());

            using var model = OnnxWorldModel.Load(directory, TestData.Cpu);

            Assert.Equal([1, 0], model.Spec.CheckpointActionDims!);
            Assert.Equal(model.Spec.ActionBlock * 2, model.Spec.CheckpointBlockSize);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void A_missing_model_json_is_named()
    {
        var directory = CopyGood();
        try
        {
            File.Delete(Path.Combine(directory, "model.json"));
            var error = Assert.Throws<WorldModelException>(() => OnnxWorldModel.Load(directory, TestData.Cpu));
            Assert.Contains(Path.Combine(directory, "model.json") + ": file not found", error.Message);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string CopyGood()
    {
        var target = Directory.CreateTempSubdirectory("robotctl-model-").FullName;
        foreach (var file in Directory.GetFiles(TestData.Broken("good-tiny")))
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        return target;
    }

    private static void Merge(JsonObject target, JsonObject edit)
    {
        foreach (var (key, value) in edit.ToList())
        {
            if (value is JsonObject child && target[key] is JsonObject existing) Merge(existing, child);
            else target[key] = value?.DeepClone();
        }
    }
}
