using System.Text.Json.Nodes;
using RobotCtl.Core.Arm;
using RobotCtl.Core.WorldModel;
using RobotCtl.Evaluation;
using RobotCtl.Hardware;
using RobotCtl.Host.Commands;
using RobotCtl.Inference.WorldModel;
using RobotCtl.Planning;
using RobotCtl.Sim;
using RobotCtl.Sim.Tasks;

namespace RobotCtl.Host.Tests;

public class EvalStatisticsTests
{
    /// <summary>Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I, method 3 (Wilson score, no continuity correction).</summary>
    [Theory]
    [InlineData(81, 263, 0.2553, 0.3662)]
    [InlineData(15, 148, 0.0624, 0.1605)]
    [InlineData(0, 20, 0.0, 0.1611)]
    [InlineData(1, 29, 0.0061, 0.1718)]
    [InlineData(8, 10, 0.4902, 0.9433)]
    [InlineData(10, 10, 0.7225, 1.0)]
    public void Wilson_interval_matches_published_values(int successes, int trials, double low, double high)
    {
        var (lo, hi) = EvalStatistics.Wilson(successes, trials);
        Assert.Equal(low, lo, 4);
        Assert.Equal(high, hi, 4);
    }

    [Fact]
    public void Wilson_interval_refuses_impossible_counts()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => EvalStatistics.Wilson(0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => EvalStatistics.Wilson(3, 2));
    }

    [Fact]
    public void Percentiles_interpolate_between_order_statistics()
    {
        Assert.Equal(2.5, EvalStatistics.Percentile([4, 1, 3, 2], 50));
        Assert.Equal(99.01, EvalStatistics.Percentile(Enumerable.Range(1, 100).Select(i => (double)i).ToList(), 99), 9);
        Assert.True(double.IsNaN(EvalStatistics.Percentile([], 50)));
    }
}

/// <summary>The oracle planner on the workcell's true state, without the runtime around it.</summary>
[Trait("Category", "Slow")]
public class OracleTests
{
    private static readonly WorldModelSpec Spec = ModelManifest.Load(TestHome.SmallModel).Spec;
    private static readonly ActionBounds Bounds = ActionBounds.FromLimits(RigCalibration.Load(Path.Combine(TestHome.Root, "calibration", "default")).Limits);

    // Sum, not LeWM's last: with only the final state scored, the first block is free once the target is nearer than
    // a full horizon, and the oracle wanders (measured: 3 to 7 of 10 reach episodes with last, 10 of 10 with sum).
    private static PlannerOptions Options(int seed) => PlannerOptions.ForModel(Spec) with
    {
        Samples = 100, TopK = 10, Iterations = 6, Seed = (ulong)seed, CostShape = CostShape.Sum,
    };

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void The_oracle_reaches_a_reach_target_within_the_budget(int index)
    {
        var task = SimTask.Get("reach");
        var episode = task.Sample(7, index);
        var world = new SimWorkcell(episode.Scene);
        using var planner = EvalPlanners.Oracle(Spec, Options(index), Bounds, ActionMapping.Identity, world, episode);
        var result = planner.CreateResult();
        var latent = new float[Spec.LatentSize];
        var perCycle = Spec.ActionBlock; // one block executed per plan, as the runtime does by default
        var steps = 0;
        while (!task.IsSuccess(world.Snapshot(), episode) && steps < task.StepBudget)
        {
            planner.Plan(new PlanInput(latent) { BlocksExecuted = steps == 0 ? 0 : 1 }, result);
            for (var s = 0; s < perCycle; s++) world.Apply(ActionMapping.Identity.ToRobot(result.Action(s)));
            steps += perCycle;
        }
        Assert.True(task.IsSuccess(world.Snapshot(), episode),
            $"episode {index}: error {task.ErrorMetres(world.Snapshot(), episode) * 100:F2} cm after {steps} commands");
    }

    [Fact]
    public void The_oracle_scores_the_same_on_one_or_two_threads_and_allocates_nothing_per_plan()
    {
        var episode = SimTask.Get("push").Sample(3, 0);
        var world = new SimWorkcell(episode.Scene);
        using var one = EvalPlanners.Oracle(Spec, Options(1), Bounds, ActionMapping.Identity, world, episode, threads: 1);
        using var two = EvalPlanners.Oracle(Spec, Options(1), Bounds, ActionMapping.Identity, world, episode, threads: 2);
        var latent = new float[Spec.LatentSize];
        var a = one.CreateResult();
        var b = two.CreateResult();
        one.WarmUp(new PlanInput(latent));
        one.Plan(new PlanInput(latent), a);
        two.Plan(new PlanInput(latent), b);
        Assert.Equal(a.Actions, b.Actions);
        Assert.Equal(a.FinalCost, b.FinalCost);

        Assert.Equal(0, Allocations.Of(() => one.Plan(new PlanInput(latent) { BlocksExecuted = 1 }, a)));
        // The world itself is only read.
        Assert.Equal(0u, world.Snapshot().Sequence);
    }
}

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
            foreach (var field in new[] { "index", "success", "steps", "final_error_cm", "yaw_error_deg" })
                Assert.True(e!.AsObject().ContainsKey(field), $"missing per-episode {field}");
        Assert.True((double)episodes[0]!["final_error_cm"]! > 0);
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
        using var dir = new TestHome.TempDir();
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
