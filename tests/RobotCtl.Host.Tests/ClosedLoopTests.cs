using RobotCtl.Episodes;
using RobotCtl.Host.Commands;
using RobotCtl.Runtime;

namespace RobotCtl.Host.Tests;

/// <summary>
/// The whole runtime in-process on the simulated workcell with the example LeWM-shaped ONNX model: real ONNX Runtime,
/// real OpenCV preprocessing, real SQLite episode; only the robot is simulated.
/// </summary>
[Trait("Category", "Slow")]
public class ClosedLoopTests
{
    [Theory]
    [InlineData("lewm-small")]
    [InlineData("vjepa2ac-small")] // token latents, l1 cost, and the arm state as a model input
    public async Task A_sim_run_records_an_episode_that_replay_reproduces_exactly(string modelName)
    {
        using var dir = new TempDir();
        var goal = TestScenes.GoalImage(dir.Path, "seed=7,ee=0.1:0.08:0.03");
        var episodes = dir.File("episodes");

        var exit = await RunCommand.RunAsync(TestHome.SmallRun(goal, episodes, model: Path.Combine(TestHome.Root, "models", "examples", modelName)), CancellationToken.None);

        Assert.Equal(ExitCodes.Of(RunOutcome.StepBudgetExhausted), exit);
        var listing = Assert.Single(EpisodeCatalog.List(episodes));
        using var reader = EpisodeReader.Open(listing.Path);
        Assert.Equal(4, reader.Plans().Count());
        Assert.Equal(4, reader.Frames().Count());
        Assert.Single(reader.GoalImages());
        Assert.NotEmpty(reader.Commands());
        Assert.All(reader.Commands(), c => Assert.True(c.Sent.IsFinite));
        Assert.NotEmpty(reader.ArmStates());
        Assert.Equal(false, reader.Info.Success);

        // Replay: same model, same settings (read back from the episode), same seeds, as `robotctl replay` builds it.
        using var session = ReplaySession.Open(reader);
        var steps = session.Replayer.Replay(reader).ToList();

        Assert.Equal(4, steps.Count);
        // The model's 3-frame history: 1, 2, then 3 frames, with the arm state at each frame for the state model.
        Assert.Equal([1, 2, 3, 3], steps.Select(s => s.ContextFrames));
        var context = reader.PlanContexts().Last();
        Assert.Equal(3 * reader.PlanContexts().First().StateDim, context.States.Length);
        Assert.Equal(2 * context.ActionBlock * context.ActionDim, context.PastActions.Length);
        Assert.All(steps, s =>
        {
            Assert.False(s.Diverges, $"step {s.Step}: plan diff {s.PlanDiff}, command diff {s.CommandDiff}");
            Assert.Equal(0, s.PlanDiff);
            Assert.Equal(s.RecordedCost, s.ReplayedCost);
            // PNG frames are lossless: the encoder sees exactly what the live loop saw.
            Assert.Equal(0, s.LatentDiff);
            Assert.True(s.CommandsCompared > 0);
        });

        // A step range that selects no plan is refused through the CLI (it used to replay nothing and exit 0).
        if (modelName == "lewm-small")
            BadInputTests.AssertBadInput(BadInputTests.Cli("replay", listing.Path, "--from", "1000"),
                "--from 1000", "has plans at steps 0..3", "the range selects none");
    }

    [Fact]
    public async Task The_arm_is_left_holding_and_the_episode_closed_when_the_run_is_cancelled()
    {
        using var dir = new TempDir();
        var goal = TestScenes.GoalImage(dir.Path, "seed=7,ee=0.1:0.08:0.03");
        var episodes = dir.File("episodes");
        using var cts = new CancellationTokenSource();
        // Cancel once the loop is into its third step (two have planned and sent commands), not after a fixed time:
        // on a loaded machine start-up alone can outlast a timer. The success hook is called once per step and never
        // reports success.
        var stepsSeen = 0;
        bool CancelOnThirdStep(int goalIndex) { if (++stepsSeen == 3) cts.Cancel(); return false; }

        var exit = await RunCommand.RunAsync(TestHome.SmallRun(goal, episodes, steps: 1000), cts.Token, externalSuccess: CancelOnThirdStep);

        Assert.Equal(ExitCodes.Of(RunOutcome.Cancelled), exit);
        using var reader = EpisodeReader.Open(Assert.Single(EpisodeCatalog.List(episodes)).Path);
        Assert.NotNull(reader.Info.EndTimeUtc);
        Assert.Equal("Cancelled: cancelled", reader.Info.Outcome); // an outcome with its reason, whichever wait the cancel interrupts
        // The last command the arm was sent is hold.
        Assert.True(reader.Commands().Last().Sent.IsHold);
    }
}
