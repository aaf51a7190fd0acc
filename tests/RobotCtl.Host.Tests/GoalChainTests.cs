using Microsoft.Extensions.Logging.Abstractions;
using RobotCtl.Runtime.Composition;
using RobotCtl.Runtime;

namespace RobotCtl.Host.Tests;

/// <summary>An external judge walks the loop through a goal chain: a reached sub-goal hands over to the next goal.</summary>
[Trait("Category", "Slow")]
public class GoalChainTests
{
    [Fact]
    public async Task A_reached_sub_goal_moves_the_loop_to_the_next_goal_and_the_last_one_ends_the_run()
    {
        using var dir = new TestHome.TempDir();
        Directory.CreateDirectory(dir.File("a"));
        Directory.CreateDirectory(dir.File("b"));
        var first = TestHome.GoalImage(dir.File("a"), "seed=7,ee=0.1:0.08:0.02");
        var second = TestHome.GoalImage(dir.File("b"), "seed=7,ee=-0.1:0.1:0.02");
        var request = ClosedLoopTests.SmallRun(first, dir.File("episodes"), steps: 10) with { Goals = [first, second], Samples = 16, Iterations = 2 };
        request = request with { Sets = [.. request.Sets, "Surprise:Enabled=false"] };
        using var services = RuntimeServices.Create(AppConfiguration.Build(request.Overrides()));
        var settings = services.Factory().Settings;
        await using var components = await services.Factory().BuildRunAsync(request.Goals, CancellationToken.None);
        var asked = new List<(int Step, int Goal)>();
        ControlLoop? loop = null;
        // Goal 0 counts as reached from cycle 2 on, goal 1 from cycle 4 on.
        loop = new ControlLoop(components, settings.Runtime, settings.Surprise, NullLogger.Instance)
        {
            ExternalSuccess = goal =>
            {
                asked.Add((loop!.Step, goal));
                return loop.Step >= (goal == 0 ? 2 : 4);
            },
        };
        components.Streamer.Start();
        var outcome = await Task.Factory.StartNew(() => loop.Run(CancellationToken.None), TaskCreationOptions.LongRunning);
        components.Streamer.Stop();

        Assert.Equal(RunOutcome.Success, outcome);
        Assert.Equal(4, loop.Step);
        Assert.Equal([(0, 0), (1, 0), (2, 0), (3, 1), (4, 1)], asked);
    }
}
