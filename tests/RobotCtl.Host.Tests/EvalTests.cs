using System.Text.Json.Nodes;
using RobotCtl.Evaluation;
using RobotCtl.Host.Commands;

namespace RobotCtl.Host.Tests;

/// <summary>`robotctl eval` in-process: the real runtime (ONNX Runtime, OpenCV preprocessing, governor, streamer) on the sim.</summary>
[Trait("Category", "Slow")]
public class EvalCommandTests
{
    private static EvalCommand.Arguments Small(string? model = null) => new()
    {
        Task = "reach", Episodes = 2, Seed = 4, Model = model ?? TestHome.SmallModel, Samples = 32, Iterations = 2, Json = true,
    };

    private static async Task<(int Exit, string Out, string Err)> Run(EvalCommand.Arguments arguments)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await EvalCommand.RunAsync(arguments, stdout, stderr, CancellationToken.None);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static JsonObject WithoutTimings(JsonObject o)
    {
        var copy = o.DeepClone().AsObject();
        foreach (var field in EvalReport.TimingFields) copy.Remove(field);
        foreach (var e in copy["per_episode"]!.AsArray())
            foreach (var field in EvalReport.TimingFields) e!.AsObject().Remove(field);
        return copy;
    }

    [Fact]
    public async Task Eval_prints_one_json_object_with_the_fields()
    {
        var (exit, stdout, stderr) = await Run(Small());

        Assert.True(exit == 0, stderr);
        Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var o = JsonNode.Parse(stdout)!.AsObject();
        foreach (var field in new[]
                 {
                     "task", "episodes", "successes", "success_rate", "ci95", "plan_ms_p50", "plan_ms_p99", "final_error_cm_mean",
                     "final_error_cm_median", "mean_steps_to_success", "planner", "model", "samples", "iterations", "horizon", "cost_shape",
                     "seed", "per_episode",
                 })
            Assert.True(o.ContainsKey(field), $"missing {field} in {stdout}");
        Assert.Equal(("reach", 2, "model", "lewm-small", 32, 2, "last", 4),
            ((string)o["task"]!, (int)o["episodes"]!, (string)o["planner"]!, (string)o["model"]!, (int)o["samples"]!, (int)o["iterations"]!,
                (string)o["cost_shape"]!, (int)o["seed"]!));
        var ci = o["ci95"]!.AsArray();
        Assert.True((double)ci[0]! <= (double)o["success_rate"]! && (double)o["success_rate"]! <= (double)ci[1]!);
        var episodes = o["per_episode"]!.AsArray();
        Assert.Equal(2, episodes.Count);
        foreach (var e in episodes)
            foreach (var field in new[] { "index", "success", "steps", "start_error_cm", "final_error_cm", "yaw_error_deg" })
                Assert.True(e!.AsObject().ContainsKey(field), $"missing per-episode {field}");
        Assert.True((double)episodes[0]!["final_error_cm"]! > 0);
        // The start error is the task's distance in the episode's start scene: effector start to target for reach.
        var sample = RobotCtl.Sim.Tasks.SimTask.Get("reach").Sample(4, 0);
        var startCm = Math.Sqrt(Math.Pow(sample.Scene.EeX - sample.TargetX, 2) + Math.Pow(sample.Scene.EeY - sample.TargetY, 2)) * 100;
        Assert.Equal(startCm, (double)episodes[0]!["start_error_cm"]!, 3);
        Assert.Null(episodes[0]!["yaw_error_deg"]); // reach has no yaw error: JSON null
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_json_apart_from_timings()
    {
        var first = await Run(Small());
        var second = await Run(Small());

        Assert.True(first.Exit == 0 && second.Exit == 0, first.Err + second.Err);
        var a = WithoutTimings(JsonNode.Parse(first.Out)!.AsObject());
        var b = WithoutTimings(JsonNode.Parse(second.Out)!.AsObject());
        Assert.Equal(a.ToJsonString(), b.ToJsonString());
    }

    [Fact]
    public async Task The_oracle_runs_through_the_same_runtime_and_succeeds()
    {
        var (exit, stdout, stderr) = await Run(Small() with { Planner = "oracle", CostShape = "sum", Samples = 100, Iterations = 6 });

        Assert.True(exit == 0, stderr);
        var o = JsonNode.Parse(stdout)!.AsObject();
        Assert.Equal(("oracle", "sum", 2), ((string)o["planner"]!, (string)o["cost_shape"]!, (int)o["successes"]!));
    }

    public static TheoryData<string, string> BadInputs() => new()
    {
        { "task", "unknown task 'stack' (known: reach, push)" },
        { "episodes", "--episodes: expected an integer >= 1, found 0" },
        { "episodes-beyond-a-seed", "--episodes: expected at most 1000" },
        { "planner", "--planner: expected model, oracle, random, found 'genius'" },
        { "action-dim", "action.dim is 5, but the workcell takes 7-D end-effector commands" },
        { "aspect", "image 64x48 has another aspect ratio than the sim camera's 224x224" },
        { "record", "cannot write there" },
        { "cost-shape", "--cost-shape: expected last, sum or comma-separated weights" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_input_is_refused_with_one_line_and_exit_2(string what, string message)
    {
        using var dir = new TempDir();
        var arguments = what switch
        {
            "task" => Small() with { Task = "stack" },
            "episodes" => Small() with { Episodes = 0 },
            "episodes-beyond-a-seed" => Small() with { Episodes = 1001 },
            "planner" => Small() with { Planner = "genius" },
            "action-dim" => Small(EditedModel(dir.File("model"), m =>
            {
                m["action"]!["dim"] = 5;
                m["action"]!["mean"] = new JsonArray(0, 0, 0, 0, 0);
                m["action"]!["std"] = new JsonArray(1, 1, 1, 1, 1);
                m["action"]!["search"] = new JsonArray(true, true, true, true, true);
            })),
            "aspect" => Small(EditedModel(dir.File("model"), m => m["image"]!["height"] = 48)),
            "record" => Small() with { Record = Path.Combine(BlockingFile(dir.File("a-file")), "episodes") },
            "cost-shape" => Small() with { CostShape = "steep" },
            _ => throw new ArgumentOutOfRangeException(nameof(what)),
        };

        var (exit, stdout, stderr) = await Run(arguments);

        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("robotctl eval: ", line);
        Assert.Contains(message, line);
    }

    /// <summary>A copy of the example model with its model.json edited (the graphs are never loaded: eval refuses first).</summary>
    private static string EditedModel(string directory, Action<JsonObject> edit)
    {
        Directory.CreateDirectory(directory);
        foreach (var file in Directory.GetFiles(TestHome.SmallModel))
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "model.json")))!.AsObject();
        edit(json);
        File.WriteAllText(Path.Combine(directory, "model.json"), json.ToJsonString());
        return directory;
    }

    /// <summary>A regular file: no directory can be created under it, whoever runs the test.</summary>
    private static string BlockingFile(string path)
    {
        File.WriteAllText(path, "not a directory");
        return path;
    }
}
