using RobotCtl.Core.Arm;
using RobotCtl.Core.Vision;

namespace RobotCtl.Sim.Tests;

public class SimSyncCameraTests
{
    private static readonly SimRenderOptions Small = new() { Width = 32, Height = 32 };

    [Fact]
    public void Every_read_shows_exactly_the_commands_applied_before_it()
    {
        var cell = new SimWorkcell(SimSceneOptions.Parse("seed=3,ee=0:-0.15:0.02"));
        using var camera = new SimSyncCamera(cell, Small);
        var frame = new Frame(32, 32);
        Assert.Equal(FrameReadStatus.NoFrame, camera.ReadLatest(TimeSpan.FromSeconds(1), frame));
        camera.Start();

        var expected = new Frame(32, 32);
        var renderer = new SimRenderer(Small);
        long sequence = 0;
        for (var i = 0; i < 3; i++)
        {
            cell.Apply(new EeCommand(0.03f, 0.02f, 0, 0, 0, 0, 0));
            // No waiting: the read itself renders the state the command left.
            Assert.Equal(FrameReadStatus.Ok, camera.ReadLatest(TimeSpan.Zero, frame));
            renderer.Render(cell, expected);
            Assert.Equal(expected.Pixels, frame.Pixels);
            Assert.True(frame.Sequence > sequence);
            sequence = frame.Sequence;
        }
        Assert.EndsWith("(rendered on read)", camera.Description);
    }
}
