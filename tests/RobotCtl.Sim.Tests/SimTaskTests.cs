using FsCheck;
using FsCheck.Fluent;
using RobotCtl.Sim.Tasks;

namespace RobotCtl.Sim.Tests;

public class SimTaskTests
{
    private static readonly SimSceneOptions Scene = SimSceneOptions.Default;

    private static double Gap(double x, double y, double bx, double by, double yaw) =>
        -SimWorkcell.Overlap(Scene, x, y, SimTask.EffectorHeight, bx, by, yaw);

    private static double HalfExtent(double yaw) => Scene.BlockHalf * (Math.Abs(Math.Cos(yaw)) + Math.Abs(Math.Sin(yaw)));

    private static SimSnapshot Start(SimTaskEpisode e) =>
        new(e.Scene.EeX, e.Scene.EeY, e.Scene.EeZ, e.Scene.EeYaw, e.Scene.Gripper, e.Scene.BlockX!.Value, e.Scene.BlockY!.Value, e.Scene.BlockYaw!.Value, 0);

    [Fact]
    public void Names_and_lookup()
    {
        Assert.Equal(["reach", "push"], SimTask.Names);
        Assert.Equal(SimTaskKind.Reach, SimTask.Get("reach").Kind);
        Assert.Equal(SimTaskKind.Push, SimTask.Get("Push").Kind);
        Assert.Equal((80, 0.015), (SimTask.Get("reach").StepBudget, SimTask.Get("reach").SuccessRadius));
        Assert.Equal((150, 0.02), (SimTask.Get("push").StepBudget, SimTask.Get("push").SuccessRadius));
    }

    [Fact]
    public void Unknown_task_lists_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => SimTask.Get("stack"));
        Assert.StartsWith("unknown task 'stack' (known: reach, push)", e.Message);
    }

    [Fact]
    public void Reach_success_at_the_target_not_at_a_near_miss()
    {
        var task = SimTask.Get("reach");
        var ep = task.Sample(1, 0);
        var at = ep.Goal;
        Assert.True(task.IsSuccess(at, ep));
        Assert.Equal(0, task.ErrorMetres(at, ep), 12);
        Assert.Null(task.YawErrorRadians(at, ep));
        var (s, c) = Math.SinCos(0.7);
        var miss = at with { EeX = ep.TargetX + 0.016 * c, EeY = ep.TargetY + 0.016 * s };
        Assert.False(task.IsSuccess(miss, ep));
        Assert.Equal(0.016, task.ErrorMetres(miss, ep), 9);
        Assert.True(task.IsSuccess(at with { EeX = ep.TargetX + 0.014 }, ep));
        Assert.False(task.IsSuccess(Start(ep), ep)); // the start is >= 0.10 m away
    }

    [Fact]
    public void Push_success_at_the_target_not_at_a_near_miss()
    {
        var task = SimTask.Get("push");
        var ep = task.Sample(1, 0);
        var at = ep.Goal;
        Assert.True(task.IsSuccess(at, ep));
        Assert.Equal(0, task.YawErrorRadians(at, ep)!.Value, 12);
        var (s, c) = Math.SinCos(-2.1);
        var miss = at with { BlockX = ep.TargetX + 0.021 * c, BlockY = ep.TargetY + 0.021 * s };
        Assert.False(task.IsSuccess(miss, ep));
        Assert.Equal(0.021, task.ErrorMetres(miss, ep), 9);
        // The effector's position does not matter for push.
        Assert.True(task.IsSuccess(at with { EeX = 0.25, EeY = 0.25 }, ep));
        Assert.False(task.IsSuccess(Start(ep), ep)); // the block starts >= 5 cm away
    }

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(Math.PI / 2, 0.0)]
    [InlineData(-Math.PI, 0.0)]
    [InlineData(0.3, 0.3)]
    [InlineData(Math.PI / 2 + 0.3, 0.3)]
    [InlineData(Math.PI / 2 - 0.3, 0.3)]
    [InlineData(Math.PI / 4, Math.PI / 4)]
    [InlineData(2 * Math.PI + 0.1, 0.1)]
    public void Push_yaw_error_folds_the_quarter_turn_symmetry(double offset, double expected)
    {
        var task = SimTask.Get("push");
        var ep = task.Sample(3, 7);
        var state = ep.Goal with { BlockYaw = ep.TargetYaw + offset };
        Assert.Equal(expected, task.YawErrorRadians(state, ep)!.Value, 9);
    }

    [Theory]
    [InlineData("reach")]
    [InlineData("push")]
    public void Samples_are_deterministic_and_independent_of_other_indices(string name)
    {
        var task = SimTask.Get(name);
        var forward = Enumerable.Range(0, 20).Select(i => task.Sample(5, i)).ToList();
        var backward = Enumerable.Range(0, 20).Reverse().Select(i => task.Sample(5, i)).Reverse().ToList();
        Assert.Equal(forward, backward);
        Assert.Equal(20, forward.Select(e => (e.TargetX, e.TargetY)).Distinct().Count());
        Assert.Equal(20, forward.Select(e => (e.Scene.BlockX, e.Scene.BlockY)).Distinct().Count());
        Assert.NotEqual(task.Sample(5, 0).Goal, task.Sample(6, 0).Goal);
        Assert.All(forward, (e, i) => Assert.Equal((task.Kind, 5, i), (e.Task, e.Seed, e.Index)));
    }

    [Fact]
    public void Sampling_is_deterministic_for_any_seed_and_index()
    {
        Prop.ForAll(Gen.Choose(int.MinValue, int.MaxValue).ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (seed, index) =>
                SimTask.Names.All(n => SimTask.Get(n).Sample(seed, index) == SimTask.Get(n).Sample(seed, index)))
            .QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Reach_samples_satisfy_their_constraints()
    {
        var task = SimTask.Get("reach");
        var (lx, ly, _) = Scene.EffectorMin;
        var (hx, hy, _) = Scene.EffectorMax;
        for (var i = 0; i < 500; i++)
        {
            var ep = task.Sample(42, i);
            var sc = ep.Scene;
            double bx = sc.BlockX!.Value, by = sc.BlockY!.Value, yaw = sc.BlockYaw!.Value;
            var e = HalfExtent(yaw);
            Assert.InRange(bx, Scene.XMin + e + 0.03 - 1e-12, Scene.XMax - e - 0.03 + 1e-12);
            Assert.InRange(by, Scene.YMin + e + 0.03 - 1e-12, Scene.YMax - e - 0.03 + 1e-12);
            Assert.Equal((SimTask.EffectorHeight, 0.0, 0.0), (sc.EeZ, sc.EeYaw, sc.Gripper));
            Assert.InRange(sc.EeX, lx, hx);
            Assert.InRange(sc.EeY, ly, hy);
            Assert.True(Gap(sc.EeX, sc.EeY, bx, by, yaw) >= 0.01, $"episode {i}: effector start too close to the block");
            Assert.True(Gap(ep.TargetX, ep.TargetY, bx, by, yaw) >= 0.01, $"episode {i}: target too close to the block");
            Assert.True(Math.Sqrt(Math.Pow(ep.TargetX - sc.EeX, 2) + Math.Pow(ep.TargetY - sc.EeY, 2)) >= 0.10, $"episode {i}: target too near the start");
            Assert.Equal(new SimSnapshot(ep.TargetX, ep.TargetY, SimTask.EffectorHeight, 0, 0, bx, by, yaw, 0), ep.Goal);
            var cell = new SimWorkcell(sc);
            Assert.Equal(Start(ep), cell.Snapshot());
            cell.Restore(ep.Goal);
        }
    }

    [Fact]
    public void Push_samples_satisfy_their_constraints()
    {
        var task = SimTask.Get("push");
        var (lx, ly, _) = Scene.EffectorMin;
        var (hx, hy, _) = Scene.EffectorMax;
        for (var i = 0; i < 500; i++)
        {
            var ep = task.Sample(42, i);
            var sc = ep.Scene;
            double bx = sc.BlockX!.Value, by = sc.BlockY!.Value, yaw = sc.BlockYaw!.Value;
            Assert.InRange(bx, -0.17, 0.17);
            Assert.InRange(by, -0.17, 0.17);
            var d = Math.Sqrt(Math.Pow(ep.TargetX - bx, 2) + Math.Pow(ep.TargetY - by, 2));
            Assert.InRange(d, 0.05 - 1e-12, 0.12 + 1e-12);
            Assert.Equal(yaw, ep.TargetYaw);
            var e = HalfExtent(yaw);
            Assert.InRange(ep.TargetX, Scene.XMin + e + 0.03 - 1e-12, Scene.XMax - e - 0.03 + 1e-12);
            Assert.InRange(ep.TargetY, Scene.YMin + e + 0.03 - 1e-12, Scene.YMax - e - 0.03 + 1e-12);
            Assert.True(Gap(sc.EeX, sc.EeY, bx, by, yaw) >= 0.03, $"episode {i}: effector start too close to the block");
            Assert.InRange(sc.EeX, lx, hx);
            Assert.InRange(sc.EeY, ly, hy);
            var g = ep.Goal;
            Assert.Equal((ep.TargetX, ep.TargetY, ep.TargetYaw), (g.BlockX, g.BlockY, g.BlockYaw));
            Assert.Equal((SimTask.EffectorHeight, 0.0, 0.0), (g.EeZ, g.EeYaw, g.Gripper));
            Assert.True(Gap(g.EeX, g.EeY, g.BlockX, g.BlockY, g.BlockYaw) >= 0, $"episode {i}: goal effector touches the block");
            // Behind the block: the goal effector lies on the far side from the push direction.
            double ux = (ep.TargetX - bx) / d, uy = (ep.TargetY - by) / d;
            Assert.True((g.EeX - ep.TargetX) * ux + (g.EeY - ep.TargetY) * uy < 0, $"episode {i}: goal effector is not behind the block");
            var cell = new SimWorkcell(sc);
            Assert.Equal(Start(ep), cell.Snapshot());
            cell.Restore(g);
        }
    }

    [Fact]
    public void Negative_index_is_refused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => SimTask.Get("reach").Sample(0, -1));
        Assert.Contains("expected >= 0", e.Message);
    }

    [Fact]
    public void Push_sub_goal_is_the_pre_push_pose_behind_the_block()
    {
        var task = SimTask.Get("push");
        var placed = 0;
        for (var i = 0; i < 300; i++)
        {
            var ep = task.Sample(5, i);
            if (task.SubGoal(ep) is not { } g) continue;
            placed++;
            // The block is where it starts; the effector touches nothing and stands opposite the push direction.
            Assert.Equal((ep.Scene.BlockX!.Value, ep.Scene.BlockY!.Value, ep.Scene.BlockYaw!.Value), (g.BlockX, g.BlockY, g.BlockYaw));
            Assert.True(Gap(g.EeX, g.EeY, g.BlockX, g.BlockY, g.BlockYaw) >= 0, $"episode {i}: the pre-push pose overlaps the block");
            double ux = ep.TargetX - g.BlockX, uy = ep.TargetY - g.BlockY;
            Assert.True((g.EeX - g.BlockX) * ux + (g.EeY - g.BlockY) * uy < 0, $"episode {i}: the pre-push pose is not behind the block");
            new SimWorkcell(ep.Scene).Restore(g);
            Assert.True(task.IsSubGoalReached(g, ep));
            Assert.False(task.IsSubGoalReached(g with { EeX = g.EeX + 0.021 }, ep));
        }
        Assert.True(placed > 250, $"only {placed} of 300 push episodes have a pre-push pose");
        var reach = SimTask.Get("reach");
        Assert.Null(reach.SubGoal(reach.Sample(5, 0)));
    }
}
