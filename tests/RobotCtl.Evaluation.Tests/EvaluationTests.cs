using RobotCtl.Core.Arm;
using RobotCtl.Core.WorldModel;
using RobotCtl.Hardware;
using RobotCtl.Inference.WorldModel;
using RobotCtl.Planning;
using RobotCtl.Sim;
using RobotCtl.Sim.Tasks;

namespace RobotCtl.Evaluation.Tests;

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
    private static readonly WorldModelSpec Spec = ModelManifest.Load(Path.Combine(Repo.Root, "models", "examples", "lewm-small")).Spec;
    private static readonly ActionBounds Bounds = ActionBounds.FromLimits(RigCalibration.Load(Path.Combine(Repo.Root, "calibration", "default")).Limits);

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

public class EvalPlannerNamesTests
{
    [Fact]
    public void Each_planner_has_its_lower_case_name_and_nothing_else_parses()
    {
        Assert.Equal(["model", "oracle", "random"], EvalPlanners.Names);
        Assert.Equal(EvalPlanner.Oracle, EvalPlanners.Parse("oracle"));
        Assert.Null(EvalPlanners.Parse("Oracle"));
        Assert.Null(EvalPlanners.Parse("1"));
        Assert.Null(EvalPlanners.Parse("genius"));
    }
}

/// <summary>The repository: its calibration and example models.</summary>
internal static class Repo
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "robotctl.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no robotctl.sln above {AppContext.BaseDirectory}");
    }
}
