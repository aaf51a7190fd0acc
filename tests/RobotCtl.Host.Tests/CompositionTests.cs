using RobotCtl.Host.Composition;
using Microsoft.Extensions.Logging.Abstractions;
using RobotCtl.Episodes;
using RobotCtl.Host.Commands;
using RobotCtl.Runtime;
using RobotCtl.Runtime.Composition;

namespace RobotCtl.Host.Tests;

/// <summary>Runs through the CLI compose the way replay recomposes them: deadlines, the sim arm profile, replay to an arm.</summary>
[Trait("Category", "Slow")]
public class CompositionTests
{
    [Fact]
    public async Task Replay_reproduces_a_run_whose_plans_its_deadline_cut_short()
    {
        // A deadline far below what 200 iterations take: how many run depends on the machine and its load. Replay
        // re-runs the recorded counts with no deadline, so it must match bit for bit whatever the load is now.
        using var dir = new TempDir();
        var goal = TestScenes.GoalImage(dir.Path, "seed=7,ee=0.1:0.08:0.03");
        var request = TestHome.SmallRun(goal, dir.File("episodes"), steps: 4) with { Iterations = 200 };
        request = request with { Sets = [.. request.Sets, "Planner:DeadlineMs=5", "Surprise:Enabled=false"] };

        var exit = await RunCommand.RunAsync(request, CancellationToken.None);

        Assert.Equal(ExitCodes.Of(RunOutcome.StepBudgetExhausted), exit);
        using var reader = EpisodeReader.Open(Assert.Single(EpisodeCatalog.List(dir.File("episodes"))).Path);
        var plans = reader.Plans().ToList();
        Assert.Contains(plans, p => p.Iterations < 200);
        using var session = ReplaySession.Open(reader);
        var steps = session.Replayer.Replay(reader).ToList();
        Assert.Equal(plans.Count, steps.Count);
        Assert.All(steps, s => Assert.False(s.Diverges, $"step {s.Step}: plan diff {s.PlanDiff}, iterations {s.Iterations}"));
    }

    [Fact]
    public async Task The_sim_arm_profile_drives_the_in_process_workcell_at_the_profiles_rate()
    {
        using var dir = new TempDir();
        var goal = TestScenes.GoalImage(dir.Path, "seed=7,ee=0.1:0.08:0.03");
        var request = TestHome.SmallRun(goal, dir.File("episodes"), steps: 2) with { Sim = false, Camera = "sim", Arm = "sim.json" };
        using var services = HostServices.Create(AppConfiguration.Build(request.Overrides()));
        var factory = services.Factory();

        Assert.True(factory.ArmIsSimulated);
        Assert.Equal(20, factory.CommandRateHz); // the profile's 20 Hz caps the requested 50
        var exit = await RunCommand.RunAsync(request, CancellationToken.None);

        Assert.Equal(ExitCodes.Of(RunOutcome.StepBudgetExhausted), exit);
        using var reader = EpisodeReader.Open(Assert.Single(EpisodeCatalog.List(dir.File("episodes"))).Path);
        Assert.Equal("sim", reader.Info.Source);
        Assert.NotEmpty(reader.Commands());
    }

    [Fact]
    public async Task Replay_to_an_arm_profile_composes_the_arm_and_governor_as_a_run_does()
    {
        using var dir = new TempDir();
        var goal = TestScenes.GoalImage(dir.Path, "seed=7,ee=0.1:0.08:0.03");
        Assert.Equal(ExitCodes.Of(RunOutcome.StepBudgetExhausted),
            await RunCommand.RunAsync(TestHome.SmallRun(goal, dir.File("episodes"), steps: 2), CancellationToken.None));
        var episode = Assert.Single(EpisodeCatalog.List(dir.File("episodes"))).Path;

        var (code, output, error) = BadInputTests.Cli("replay", episode, "--to-arm", "sim.json", "--confirm", "--speed", "4");

        Assert.True(code == 0, $"exit {code}: {error}");
        Assert.Contains("re-sending", output);
        Assert.Contains("in-process", output + error); // the profile's transport sim: the in-process workcell
        Assert.Contains("the arm is holding", output);
    }
}
