using RobotCtl.Runtime.Composition;

namespace RobotCtl.Runtime.Tests;

/// <summary>The one composition path: settings validated when the services are made; the factory's parts bounded by the rig.</summary>
public class CompositionTests
{
    [Fact]
    public void A_bad_setting_fails_when_the_services_are_made_naming_its_key()
    {
        var e = Assert.Throws<ConfigurationValueException>(() =>
            RuntimeServices.Create(AppConfiguration.Build([new("Planner:Samples", "-4")])));
        Assert.Contains("Planner:Samples", e.Message);
    }

    [Fact]
    public void The_factory_plans_within_the_rigs_limits_and_with_the_configured_planner_settings()
    {
        using var services = RuntimeServices.Create(AppConfiguration.Build([
            new("Runtime:Model", RuntimeTestHome.SmallModel), new("Planner:Samples", "24"), new("Planner:Iterations", "2"), new("Planner:DeadlineMs", "")]));
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
    public void An_arm_profile_for_another_rig_is_refused_naming_both()
    {
        using var dir = new TempDir();
        var profile = dir.File("other-rig.json");
        File.WriteAllText(profile, """{ "name": "other-rig", "transport": "sim", "rig": "lab2" }""");
        using var services = RuntimeServices.Create(AppConfiguration.Build([new("Runtime:Arm", profile)]));

        var e = Assert.Throws<ConfigurationValueException>(() => services.Factory().Rig);
        Assert.Contains("'lab2'", e.Message);
        Assert.Contains("calibration/default", e.Message);
    }

    [Fact]
    public void A_command_rate_above_the_rigs_max_rate_is_refused_naming_the_key()
    {
        using var services = RuntimeServices.Create(AppConfiguration.Build([new("Runtime:CommandRateHz", "80")]));

        var e = Assert.Throws<ConfigurationValueException>(() => services.Factory().Rig);
        Assert.Contains("Runtime:CommandRateHz", e.Message);
        Assert.Contains("maxRateHz 50", e.Message);
    }
}
