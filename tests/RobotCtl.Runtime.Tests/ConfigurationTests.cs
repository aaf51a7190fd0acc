using RobotCtl.Runtime.Composition;
using RobotCtl.Runtime;

namespace RobotCtl.Runtime.Tests;

public class ConfigurationTests
{
    private static RunSettings With(params string[] sets) =>
        RunSettings.From(AppConfiguration.Build(AppConfiguration.ParseSets(sets)));

    [Fact]
    public void The_shipped_appsettings_are_valid()
    {
        var s = With();
        Assert.Equal("sim", s.Runtime.Camera);
        Assert.Equal("sim", s.Runtime.Arm);
    }

    [Theory]
    [InlineData("Runtime:CommandRateHz=-5", "Runtime:CommandRateHz")]
    [InlineData("Runtime:MaxSteps=0", "Runtime:MaxSteps")]
    [InlineData("Planner:Solver=gradient", "Planner:Solver")]
    [InlineData("Planner:Samples=0", "Planner:Samples")]
    [InlineData("Recording:FrameFormat=gif", "Recording:FrameFormat")]
    [InlineData("Sim:Width=3", "Sim:Width")]
    [InlineData("Surprise:BaselineAlpha=2", "Surprise:BaselineAlpha")]
    [InlineData("Planner:MeanMomentum=1.5", "Planner:MeanMomentum")]
    [InlineData("Planner:CostShape=first", "Planner:CostShape")]
    [InlineData("Planner:CostShape=1,-2", "Planner:CostShape")]
    [InlineData("Planner:Execute=median", "Planner:Execute")]
    [InlineData("Bogus:Key=1", "Bogus: unknown settings section")]
    [InlineData("Planer:Samples=64", "Planer: unknown settings section")]
    [InlineData("Planner:Elitism=maybe", "Planner:Elitism")]
    [InlineData("Sim:RenderOnRead=maybe", "RenderOnRead")]
    public void A_bad_value_is_refused_naming_its_key(string set, string key)
    {
        var e = Assert.ThrowsAny<Exception>(() => With(set));
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void A_value_of_the_wrong_type_is_refused_naming_its_key()
    {
        var e = Assert.Throws<ConfigurationValueException>(() => With("Runtime:MaxSteps=many"));
        Assert.Equal("configuration Runtime:MaxSteps: expected an integer, found \"many\"", e.Message);
        e = Assert.Throws<ConfigurationValueException>(() => With("Inference:Provider=gpu"));
        Assert.StartsWith("configuration Inference:Provider: expected one of ", e.Message);
        e = Assert.Throws<ConfigurationValueException>(() => With("Surprise:PauseMs=soon"));
        Assert.Equal("configuration Surprise:PauseMs: expected a number, found \"soon\"", e.Message);
    }

    [Fact]
    public void An_unknown_key_is_refused_with_the_known_ones()
    {
        var e = Assert.Throws<ConfigurationValueException>(() => With("Runtime:Camra=sim"));
        Assert.Contains("Runtime:Camra", e.Message);
        Assert.Contains("Camera", e.Message);
        e = Assert.Throws<ConfigurationValueException>(() => With("Planner:Bogus=3"));
        Assert.Contains("Planner:Bogus", e.Message);
    }

    [Fact]
    public void A_set_without_equals_is_refused()
    {
        Assert.Throws<ArgumentException>(() => AppConfiguration.ParseSets(["Runtime:Camera"]).ToList());
    }
}

public class PlannerSettingsTests
{
    [Fact]
    public void Context_frames_default_to_the_models_planner_context_frames_then_its_history_and_the_setting_wins()
    {
        Assert.Equal(32, new PlannerSettings().ContextFramesFor(32, "m"));
        Assert.Equal(1, new PlannerSettings().ContextFramesFor(32, "vjepa", modelDefault: 1)); // V-JEPA 2-AC's MPC: one frame
        Assert.Equal(4, new PlannerSettings { ContextFrames = 4 }.ContextFramesFor(32, "vjepa", modelDefault: 1));
        var e = Assert.Throws<ConfigurationValueException>(() => new PlannerSettings { ContextFrames = 33 }.ContextFramesFor(32, "vjepa", 1));
        Assert.Contains("Planner:ContextFrames", e.Message);
    }

    [Fact]
    public void Configured_planner_values_override_the_models_defaults_and_the_rest_are_kept()
    {
        var spec = Inference.WorldModel.ModelManifest.Load(RuntimeTestHome.SmallModel).Spec;
        var settings = new Runtime.PlannerSettings { Samples = 64, TopK = 8, MeanMomentum = 0.2f, GripperDeadband = 0.25f, DeadlineMs = 500 };

        var options = RobotCtl.Runtime.Composition.RuntimeBuilder.PlannerOptionsFrom(settings, spec, seed: 9);

        Assert.Equal((64, 8, 0.2f, 0.25f, 9UL), (options.Samples, options.TopK, options.MeanMomentum, options.GripperDeadband, options.Seed));
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.Deadline);
        Assert.Equal(spec.Planner.Horizon, options.Horizon);
        Assert.Equal(spec.Planner.Iterations, options.Iterations);
    }

    [Theory]
    [InlineData(null, 5, "last")]                 // the example model's planner.cost_shape is absent: last
    [InlineData("sum", 3, "sum")]
    [InlineData("0,0,1,1,2", 5, "0,0,1,1,2")]
    public void The_cost_shape_setting_reaches_the_planner_options(string? shape, int horizon, string expected)
    {
        var spec = Inference.WorldModel.ModelManifest.Load(RuntimeTestHome.SmallModel).Spec;
        var options = RobotCtl.Runtime.Composition.RuntimeBuilder.PlannerOptionsFrom(new Runtime.PlannerSettings { CostShape = shape, Horizon = horizon }, spec, 0);
        Assert.Equal(expected, options.CostShape.ToString());
        Assert.Equal(horizon, options.StepWeights().Length);
    }

    [Fact]
    public void Cost_shape_weights_that_do_not_fit_the_horizon_are_refused_naming_the_key()
    {
        var spec = Inference.WorldModel.ModelManifest.Load(RuntimeTestHome.SmallModel).Spec;
        var e = Assert.Throws<ConfigurationValueException>(() =>
            RobotCtl.Runtime.Composition.RuntimeBuilder.PlannerOptionsFrom(new Runtime.PlannerSettings { CostShape = "1,2", Horizon = 3 }, spec, 0));
        Assert.Contains("Planner:CostShape", e.Message);
        Assert.Contains("3 weights", e.Message);
    }

    [Fact]
    public void The_solver_setting_switches_to_mppi_with_its_std_clamp()
    {
        var spec = Inference.WorldModel.ModelManifest.Load(RuntimeTestHome.SmallModel).Spec;
        var options = RobotCtl.Runtime.Composition.RuntimeBuilder.PlannerOptionsFrom(new Runtime.PlannerSettings { Solver = Planning.SolverKind.Mppi }, spec, 0);
        Assert.Equal(Planning.SolverKind.Mppi, options.Solver);
        Assert.True(options.MinStd > 0);
    }
}

public class OverrideTests
{
    [Fact]
    public void A_later_override_of_the_same_key_wins()
    {
        var configuration = AppConfiguration.Build([new("Recording:Enabled", "true"), new("recording:enabled", "false")]);
        Assert.Equal("false", configuration["Recording:Enabled"]);
    }
}
