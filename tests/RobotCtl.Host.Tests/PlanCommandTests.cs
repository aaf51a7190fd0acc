using System.Text.Json;
using RobotCtl.Host.Commands;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Host.Tests;

/// <summary>`robotctl plan` end to end: one JSON object, the deadline, one-line refusals.</summary>
public sealed class PlanCommandTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("robotctl-plan-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static string Example(string name) => Path.Combine(TestHome.Root, "models", "examples", name);

    /// <summary>An observation with the block at (30, 40) and a goal with it at (60, 30), as PNG files.</summary>
    private (string Observation, string Goal) BlockScenes()
    {
        var observation = Path.Combine(_temp, "observation.png");
        var goal = Path.Combine(_temp, "goal.png");
        ImageIo.SavePng(observation, TestScenes.BlockScene(30, 40));
        ImageIo.SavePng(goal, TestScenes.BlockScene(60, 30));
        return (observation, goal);
    }

    [Fact]
    public void PlanCommandPrintsOneJsonObjectWithTheChunk()
    {
        var (observation, goal) = BlockScenes();
        var (code, stdout, stderr) = RunPlan(new PlanCommand.Arguments(Example("lewm-small"), observation, goal,
            Samples: 32, TopK: 4, Iterations: 3, Horizon: 2, Seed: 9, DeadlineMs: null, Solver: null, State: null, Json: true));
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        var actions = root.GetProperty("actions").EnumerateArray().ToArray();
        Assert.Equal(2 * 5, actions.Length);
        Assert.All(actions, a => Assert.Equal(7, a.GetArrayLength()));
        Assert.Equal(3, root.GetProperty("iterations").GetInt32());
        Assert.True(root.GetProperty("cost").GetDouble() >= 0);
        Assert.True(root.GetProperty("timings_ms").GetProperty("encode").GetDouble() > 0);
        Assert.True(root.GetProperty("timings_ms").GetProperty("plan").GetDouble() > 0);

        // Same seed, same images, same model: the same chunk.
        var (_, second, _) = RunPlan(new PlanCommand.Arguments(Example("lewm-small"), observation, goal,
            Samples: 32, TopK: 4, Iterations: 3, Horizon: 2, Seed: 9, DeadlineMs: null, Solver: null, State: null, Json: true));
        using var secondJson = JsonDocument.Parse(second);
        Assert.Equal(root.GetProperty("actions").GetRawText(), secondJson.RootElement.GetProperty("actions").GetRawText());
    }

    [Fact]
    public void UnboundedPlansSearchBeyondTheRigsStepLimitsAndBoundedOnesStayWithin()
    {
        var (observation, goal) = BlockScenes();
        double LargestDx(bool unbounded)
        {
            var (code, stdout, stderr) = RunPlan(new PlanCommand.Arguments(Example("lewm-small"), observation, goal,
                Samples: 32, TopK: 4, Iterations: 2, Horizon: 2, Seed: 9, DeadlineMs: null, Solver: null, State: null, Json: true, Unbounded: unbounded));
            Assert.True(code == 0, stderr);
            using var json = JsonDocument.Parse(stdout);
            return json.RootElement.GetProperty("actions").EnumerateArray().Max(a => Math.Abs(a[0].GetDouble()));
        }
        // lewm-small's dx std is 0.02 m, the default rig's step limit 0.02 m: a bounded sample stays within one std,
        // an unbounded one (N(0, 1) in normalised units, as stable-worldmodel's CEM) goes well past it.
        Assert.InRange(LargestDx(unbounded: false), 0, 0.02 + 1e-6);
        Assert.True(LargestDx(unbounded: true) > 0.03);
    }

    [Fact]
    public void PlanCommandWithZeroDeadlineReturnsTheWarmStartAndNoCost()
    {
        var image = Path.Combine(_temp, "scene.png");
        ImageIo.SavePng(image, TestScenes.BlockScene(50, 50));
        var (code, stdout, stderr) = RunPlan(new PlanCommand.Arguments(Example("lewm-small"), image, image,
            Samples: 16, TopK: 2, Iterations: 5, Horizon: 1, Seed: null, DeadlineMs: 0, Solver: "mppi", State: null, Json: true));
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(0, json.RootElement.GetProperty("iterations").GetInt32());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("cost").ValueKind);
        Assert.True(json.RootElement.GetProperty("stopped_by_deadline").GetBoolean());
    }

    [Theory]
    [InlineData("nan-predictor", null)]
    [InlineData("missing-predictor", null)]
    [InlineData(null, "not-an-image.png")]
    [InlineData(null, "missing.png")]
    public void PlanCommandRefusesBrokenModelsAndImagesWithOneLine(string? brokenModel, string? badImage)
    {
        var good = Path.Combine(_temp, "good.png");
        ImageIo.SavePng(good, TestScenes.BlockScene(40, 40));
        var model = brokenModel is null ? Example("lewm-small") : Path.Combine(TestHome.Root, "tests", "fixtures", "broken-models", brokenModel);
        var observation = good;
        if (badImage is not null)
        {
            observation = Path.Combine(_temp, badImage);
            if (badImage == "not-an-image.png") File.WriteAllText(observation, "this is not a PNG");
        }
        var (code, stdout, stderr) = RunPlan(new PlanCommand.Arguments(model, observation, good,
            Samples: 16, TopK: 2, Iterations: 2, Horizon: 1, Seed: null, DeadlineMs: null, Solver: null, State: null, Json: true));
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("robotctl plan: ", lines[0]);
        Assert.DoesNotContain("   at ", stderr);
        Assert.Contains(brokenModel is null ? Path.GetFileName(observation) : brokenModel, stderr);
    }

    private static (int Code, string Stdout, string Stderr) RunPlan(PlanCommand.Arguments args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = PlanCommand.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
