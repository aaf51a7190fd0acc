using RobotCtl.Core.Arm;
using RobotCtl.Core.Timing;
using RobotCtl.Core.Vision;

namespace RobotCtl.Sim.Tests;

public class SimCameraTests
{
    private static readonly SimRenderOptions Small = new() { Width = 32, Height = 32 };

    /// <summary>Polls until a frame with a sequence above <paramref name="after"/> arrives (a generous bound, not a speed check).</summary>
    private static Frame NextFrame(SimCamera camera, long after)
    {
        var frame = new Frame(32, 32);
        var deadline = MonotonicClock.Now + MonotonicClock.FromTimeSpan(TimeSpan.FromSeconds(30));
        while (MonotonicClock.Now < deadline)
        {
            if (camera.ReadLatest(TimeSpan.FromSeconds(1), frame) == FrameReadStatus.Ok && frame.Sequence > after) return frame;
            Thread.Sleep(2); // poll interval
        }
        throw new TimeoutException($"no frame after sequence {after} within 30 s (captured {camera.FramesCaptured})");
    }

    [Fact]
    public void No_frame_before_start_then_fresh_frames_with_increasing_sequence()
    {
        using var camera = new SimCamera(new SimWorkcell(), Small, fps: 200);
        Assert.Equal(FrameReadStatus.NoFrame, camera.ReadLatest(TimeSpan.FromSeconds(1), new Frame(32, 32)));
        camera.Start();
        var first = NextFrame(camera, 0);
        var second = NextFrame(camera, first.Sequence);
        var third = NextFrame(camera, second.Sequence);
        Assert.True(second.CaptureTicks > first.CaptureTicks && third.CaptureTicks > second.CaptureTicks);
        Assert.True(third.CaptureTicks <= MonotonicClock.Now);
        // A still scene keeps its image but is not reported frozen.
        Assert.Equal(first.Pixels, third.Pixels);
        Assert.True(camera.FramesCaptured >= third.Sequence);
        Assert.StartsWith("sim:topdown 32x32@200", camera.Description);
    }

    [Fact]
    public void A_change_in_the_workcell_shows_in_the_next_frames()
    {
        var sim = new SimWorkcell(SimSceneOptions.Parse("block=0:0.1,ee=0:-0.1:0.02"));
        using var camera = new SimCamera(sim, Small, fps: 200);
        camera.Start();
        var before = NextFrame(camera, 0);
        for (var i = 0; i < 10; i++) sim.Apply(new EeCommand(0.02f, 0, 0, 0, 0, 0, 0));
        var expected = new Frame(32, 32);
        new SimRenderer(Small).Render(sim, expected);
        // Frame latest + 2 read the workcell after the latest was published, so after the last Apply.
        var latest = NextFrame(camera, before.Sequence - 1).Sequence;
        var after = NextFrame(camera, latest + 1);
        Assert.NotEqual(before.Pixels, after.Pixels);
        Assert.Equal(expected.Pixels, after.Pixels);
    }

    [Fact]
    public void After_stop_the_last_frame_goes_stale_and_after_dispose_reads_fail()
    {
        var camera = new SimCamera(new SimWorkcell(), Small, fps: 100);
        camera.Start();
        NextFrame(camera, 0);
        camera.Stop();
        var frame = new Frame(32, 32);
        Assert.Equal(FrameReadStatus.Ok, camera.ReadLatest(TimeSpan.FromMinutes(1), frame));
        // Wait for the condition itself (the last frame older than the max age), bounded, rather than sleeping.
        var last = frame.CaptureTicks;
        Assert.True(SpinWait.SpinUntil(() => MonotonicClock.Elapsed(last) > TimeSpan.FromMilliseconds(5), 30_000), "the last frame to age");
        Assert.Equal(FrameReadStatus.Stale, camera.ReadLatest(TimeSpan.FromMilliseconds(1), frame));
        Assert.Equal(FrameReadStatus.Ok, camera.ReadLatest(TimeSpan.FromMinutes(1), frame));
        camera.Dispose();
        Assert.Equal(FrameReadStatus.Failed, camera.ReadLatest(TimeSpan.FromMinutes(1), frame));
        Assert.Throws<CameraException>(camera.Start);
    }

    [Fact]
    public void Start_renders_the_first_frame_before_returning()
    {
        using var camera = new SimCamera(new SimWorkcell(), Small, fps: 1);
        camera.Start();
        var frame = new Frame(8, 8);
        Assert.Equal(FrameReadStatus.Ok, camera.ReadLatest(TimeSpan.FromMinutes(1), frame));
        Assert.Equal((32, 32, 1L), (frame.Width, frame.Height, frame.Sequence));
    }

    [Fact]
    public void Camera_model_matches_the_renderers()
    {
        var sim = new SimWorkcell();
        using var camera = new SimCamera(sim, Small with { Projection = SimProjection.Oblique });
        var model = camera.CameraModel;
        var reference = new SimRenderer(camera.Options).CameraModel(sim.Scene);
        Assert.Equal((reference.Fx, reference.Fy, reference.Cx, reference.Cy, reference.Eye), (model.Fx, model.Fy, model.Cx, model.Cy, model.Eye));
    }
}
