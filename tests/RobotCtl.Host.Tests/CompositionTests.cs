using RobotCtl.Host.Composition;
using Microsoft.Extensions.Logging.Abstractions;
using RobotCtl.Episodes;
using RobotCtl.Host.Commands;
using RobotCtl.Runtime;
using RobotCtl.Runtime.Composition;

namespace RobotCtl.Host.Tests;

/// <summary>The one composition path: settings validated when the services are made; replay composes the way the run did.</summary>
[Trait("Category", "Slow")]
public class CompositionTests
{
    [Fact]
    public void A_bad_setting_fails_when_the_services_are_made_naming_its_key()
    {
        var e = Assert.Throws<ConfigurationValueException>(() =>
            HostServices.Create(AppConfiguration.Build([new("Planner:Samples", "-4")])));
        Assert.Contains("Planner:Samples", e.Message);
    }

    [Fact]
    public void The_factory_plans_within_the_rigs_limits_and_with_the_configured_planner_settings()
    {
        using var services = HostServices.Create(AppConfiguration.Build([
            new("Runtime:Model", TestHome.SmallModel), new("Planner:Samples", "24"), new("Planner:Iterations", "2"), new("Planner:DeadlineMs", "")]));
        var factory = services.Factory();
        using var model = factory.LoadModel();
        using var planner = factory.CreatePlanner(model);

        Assert.Equal(24, planner.Options.Samples);
        Assert.Equal(2, planner.Options.Iterations);
        Assert.Null(planner.Options.Deadline);
        // A wide initial spread: unbounded, many actions would leave the rig's per-step limits.
        var latent = new float[model.Spec.LatentSize];
        var goal = new float[model.Spec.LatentSize];
        Array.Fill(goal, 3f);
        planner.SetGoal(goal);
        var plan = planner.CreateResult();
        planner.Plan(new Planning.PlanInput(latent) { Seed = 5, States = model.Spec.StateDim > 0 ? new float[model.Spec.StateDim] : default }, plan);
        var maxStep = factory.Bounds.MaxStep;
        for (var s = 0; s < plan.Steps; s++)
        {
            var action = plan.Action(s);
            for (var i = 0; i < action.Length; i++)
                Assert.True(Math.Abs(action[i]) <= maxStep[i] + 1e-6f, $"step {s} axis {i}: {action[i]} beyond the rig's {maxStep[i]}");
        }
    }

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
        using var session = ReplaySession.Open(reader.Info);
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
    public void An_arm_profile_for_another_rig_is_refused_naming_both()
    {
        using var dir = new TempDir();
        var profile = dir.File("other-rig.json");
        File.WriteAllText(profile, """{ "name": "other-rig", "transport": "sim", "rig": "lab2" }""");
        using var services = HostServices.Create(AppConfiguration.Build([new("Runtime:Arm", profile)]));

        var e = Assert.Throws<ConfigurationValueException>(() => services.Factory().Rig);
        Assert.Contains("'lab2'", e.Message);
        Assert.Contains("calibration/default", e.Message);
    }

    [Fact]
    public void A_command_rate_above_the_rigs_max_rate_is_refused_naming_the_key()
    {
        using var services = HostServices.Create(AppConfiguration.Build([new("Runtime:CommandRateHz", "80")]));

        var e = Assert.Throws<ConfigurationValueException>(() => services.Factory().Rig);
        Assert.Contains("Runtime:CommandRateHz", e.Message);
        Assert.Contains("maxRateHz 50", e.Message);
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
