using Microsoft.Extensions.Logging.Abstractions;
using RobotCtl.Host.Composition;
using RobotCtl.Host.Runtime;

namespace RobotCtl.Host.Tests;

[Trait("Category", "Slow")]
public class ControlLoopAllocationTests
{
    [Fact]
    public async Task A_control_cycle_allocates_nothing_managed_after_warmup()
    {
        using var dir = new TestHome.TempDir();
        var goal = TestHome.GoalImage(dir.Path, "seed=7,ee=0.1:0.08:0.03");
        var request = ClosedLoopTests.SmallRun(goal, dir.File("episodes"), steps: ControlLoop.WarmupCycles + 4);
        // The surprise monitor runs every cycle, but its thresholds stay out of reach: a surprise event is a rare
        // log line and episode event, allowed to allocate its message (the random model's surprise varies a lot).
        request = request with { Sets = [.. request.Sets, "Surprise:ReplanFactor=1e9", "Surprise:PauseFactor=1e9", "Surprise:StopFactor=1e9"] };
        var configuration = AppConfiguration.Build(request.Overrides());
        var settings = RunSettings.From(configuration);
        await using var components = await RuntimeBuilder.BuildAsync(settings, request.Goals, NullLoggerFactory.Instance,
            ConfigurationJson.Of(configuration), CancellationToken.None);
        var loop = new ControlLoop(components, settings.Runtime, settings.Surprise, NullLogger.Instance);
        components.Streamer.Start();

        var outcome = await Task.Factory.StartNew(() => loop.Run(CancellationToken.None), TaskCreationOptions.LongRunning);
        components.Streamer.Stop();

        Assert.Equal(RunOutcome.StepBudgetExhausted, outcome);
        Assert.Equal(ControlLoop.WarmupCycles + 4, loop.Step);
        // Capture, preprocess, encode, surprise, plan, publish and record: not one managed byte per cycle.
        Assert.Equal(0, loop.SteadyAllocatedBytes);
    }
}
