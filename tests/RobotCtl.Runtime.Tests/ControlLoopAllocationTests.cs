using RobotCtl.Runtime.Devices;
using RobotCtl.Runtime.Composition;
using RobotCtl.Runtime;

namespace RobotCtl.Runtime.Tests;

[Trait("Category", "Slow")]
public class ControlLoopAllocationTests
{
    [Fact]
    public async Task A_control_cycle_allocates_nothing_managed_after_warmup()
    {
        using var dir = new TempDir();
        var goal = TestScenes.GoalImage(dir.Path, "seed=7,ee=0.1:0.08:0.03");
        var request = RuntimeTestHome.SmallRun(dir.File("episodes"), steps: ControlLoop.WarmupCycles + 4);
        // The surprise monitor runs every cycle, but its thresholds stay out of reach: a surprise event is a rare
        // log line and episode event, allowed to allocate its message (the random model's surprise varies a lot).
        // Three blocks per plan with the model's 3-frame history: the context-history path in full (below).
        request = request with { Sets = [.. request.Sets, "Surprise:ReplanFactor=1e9", "Surprise:PauseFactor=1e9", "Surprise:StopFactor=1e9", "Runtime:ExecuteBlocks=3"] };
        await using var run = await SessionRun.OpenAsync([goal], request);
        var (components, loop) = (run.Components, run.Loop);

        var outcome = await run.RunToEndAsync();

        Assert.True(outcome == RunOutcome.StepBudgetExhausted, $"{outcome}: {loop.OutcomeMessage}");
        Assert.Equal(ControlLoop.WarmupCycles + 4, loop.Step);
        // The model's history (3 frames) with three blocks per plan: every cycle photographs and encodes the two block
        // boundaries inside its chunk (the streamer pausing at each), keeps them, and plans from three frames.
        Assert.Equal(3, components.ContextFrames);
        Assert.Equal(2 * loop.Step, loop.BoundaryFramesKept);
        Assert.True(loop.History!.PlansByFrames[2] >= loop.Step - 1, $"plans by context frames: {string.Join(", ", loop.History.PlansByFrames.ToArray())}");
        // Capture, preprocess, encode, surprise, plan, publish and record: not one managed byte per cycle.
        Assert.True(loop.SteadyAllocatedBytes == 0 && loop.CountedCycles > 0, loop.AllocationReport());
    }

    [Fact]
    public async Task The_eval_configuration_allocates_nothing_per_cycle_either()
    {
        // Eval's loop: the camera renders on read (on the loop thread), the oracle plans on the sim's true state, and an
        // external success check reads the workcell every cycle.
        using var dir = new TempDir();
        var task = Sim.Tasks.SimTask.Get("push");
        var episode = task.Sample(5, 0);
        var workcell = new Sim.SimWorkcell(episode.Scene);
        var goal = TestScenes.GoalImage(dir.Path, "seed=7,ee=0.1:0.08:0.03");
        var request = RuntimeTestHome.SmallRun(dir.File("episodes"), steps: ControlLoop.WarmupCycles + 4) with { Samples = 16, Iterations = 2 };
        request = request with { Sets = [.. request.Sets, "Sim:RenderOnRead=true", "Surprise:Enabled=false"] };
        var oracle = new PlannerChoice("oracle", c => Evaluation.EvalPlanners.Oracle(c.Model.Spec, c.Options, c.Bounds, c.Mapping, workcell, episode));
        // Never true, but does the work of eval's check every cycle.
        await using var run = await SessionRun.OpenAsync([goal], request, new RunWorld().With(workcell), oracle,
            _ => _ => task.ErrorMetres(workcell.Snapshot(), episode) < 0);
        var loop = run.Loop;

        var outcome = await run.RunToEndAsync();

        Assert.True(outcome == RunOutcome.StepBudgetExhausted, $"{outcome}: {loop.OutcomeMessage}");
        Assert.True(loop.SteadyAllocatedBytes == 0 && loop.CountedCycles > 0, loop.AllocationReport());
    }
}
