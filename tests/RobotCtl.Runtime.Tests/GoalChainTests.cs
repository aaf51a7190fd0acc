using RobotCtl.Episodes;
using RobotCtl.Runtime.Composition;
using RobotCtl.Runtime;

namespace RobotCtl.Runtime.Tests;

/// <summary>
/// An external judge walks the loop through a goal chain: a reached sub-goal hands over to the next goal; the switch is
/// recorded as a typed event, and replay repeats it.
/// </summary>
[Trait("Category", "Slow")]
public class GoalChainTests
{
    /// <summary>A small recorded run toward two goal images (the effector at two places), surprise off.</summary>
    private static (string[] Goals, SettingsOverrides Overrides) TwoGoalRun(TempDir dir, int steps)
    {
        Directory.CreateDirectory(dir.File("a"));
        Directory.CreateDirectory(dir.File("b"));
        var first = TestScenes.GoalImage(dir.File("a"), "seed=7,ee=0.1:0.08:0.02");
        var second = TestScenes.GoalImage(dir.File("b"), "seed=7,ee=-0.1:0.1:0.02");
        var run = RuntimeTestHome.SmallRun(dir.File("episodes"), steps) with { Samples = 16, Iterations = 2 };
        return ([first, second], run with { Sets = [.. run.Sets, "Surprise:Enabled=false"] });
    }

    [Fact]
    public async Task A_reached_sub_goal_moves_the_loop_to_the_next_goal_and_the_last_one_ends_the_run()
    {
        using var dir = new TempDir();
        var (goals, overrides) = TwoGoalRun(dir, steps: 10);
        var asked = new List<(int Step, int Goal)>();
        // Goal 0 counts as reached from cycle 2 on, goal 1 from cycle 4 on.
        await using var run = await SessionRun.OpenAsync(goals, overrides, externalSuccess: session => goal =>
        {
            asked.Add((session.Loop.Step, goal));
            return session.Loop.Step >= (goal == 0 ? 2 : 4);
        });
        var loop = run.Loop;
        var outcome = await run.RunToEndAsync();

        Assert.Equal(RunOutcome.Success, outcome);
        Assert.Equal(4, loop.Step);
        Assert.Equal([(0, 0), (1, 0), (2, 0), (3, 1), (4, 1)], asked);
    }

    [Fact]
    public async Task A_goal_chain_is_recorded_as_typed_events_and_replays_exactly()
    {
        using var dir = new TempDir();
        var (goals, overrides) = TwoGoalRun(dir, steps: 6);
        string path;
        // The first goal counts as reached at cycle 2; the second never.
        await using (var run = await SessionRun.OpenAsync(goals, overrides, externalSuccess: session => g => g == 0 && session.Loop.Step >= 2))
        {
            path = run.Components.Recorder!.Path;
            var outcome = await run.RunToEndAsync();
            Assert.Equal(RunOutcome.StepBudgetExhausted, outcome);
            await run.Session.CloseEpisodeAsync(outcome);
        }

        using var reader = EpisodeReader.Open(path);
        var reached = Assert.Single(reader.Events(), e => e.Kind == EpisodeEventKind.GoalReached);
        Assert.Equal(2, reached.Step);
        using var session = ReplaySession.Open(reader);
        var steps = session.Replayer.Replay(reader).ToList();
        Assert.Equal(6, steps.Count);
        Assert.All(steps, s => Assert.False(s.Diverges, $"step {s.Step}: plan diff {s.PlanDiff}"));
        Assert.All(steps, s => Assert.Equal(0, s.PlanDiff));
    }
}
