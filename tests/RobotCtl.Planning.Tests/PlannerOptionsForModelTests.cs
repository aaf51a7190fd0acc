using RobotCtl.Core.WorldModel;

namespace RobotCtl.Planning.Tests;

/// <summary>A model's planner defaults reach the planner: momentum on mean and std and the gripper dead-band included.</summary>
public class PlannerOptionsForModelTests
{
    private static WorldModelSpec Spec() => Analytic.Spec("momentum", [4], 1, 2, new float[7], [1, 1, 1, 1, 1, 1, 1],
        [true, true, true, false, false, false, true], stateDim: 7, cost: "l1");

    [Fact]
    public void Momentum_and_gripper_deadband_come_from_the_model()
    {
        var spec = Spec() with
        {
            Planner = new PlannerDefaults(Cost: "l1", MeanMomentum: 0.15f, StdMomentum: 0.75f, GripperDeadband: 0.25f, Execute: "mean", Elitism: false),
        };

        var options = PlannerOptions.ForModel(spec);

        Assert.Equal((0.15f, 0.75f, 0.25f), (options.MeanMomentum, options.StdMomentum, options.GripperDeadband));
        Assert.Equal((PlanExecute.Mean, false), (options.Execute, options.Elitism));
        Assert.Equal((0.15f, 0.75f), (options.ToSolverSettings().MeanMomentum, options.ToSolverSettings().StdMomentum));
    }

    [Fact]
    public void Without_them_the_refit_is_plain()
    {
        var options = PlannerOptions.ForModel(Spec());
        Assert.Equal((0f, 0f, 0f), (options.MeanMomentum, options.StdMomentum, options.GripperDeadband));
    }
}
