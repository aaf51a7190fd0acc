using RobotCtl.Core.Vision;
using RobotCtl.Vision.Cameras;

namespace RobotCtl.Vision.Tests;

/// <summary>The capture thread's reconnection logic, over a scripted grabber (a unit test of logic, not of OpenCV).</summary>
public class CaptureCameraLogicTests
{
    private const int Generous = 30_000; // ms: a bound for "eventually", far above an idle machine's milliseconds

    private sealed class ScriptedGrabber : IFrameGrabber
    {
        public int Opens, Closes, FailOpensAfterFirst, FrameValue;
        public volatile bool Broken;
        public readonly List<long> OpenTicks = [];
        /// <summary>A successful reopen waits for this, so the test can look at the camera while it reconnects.</summary>
        public readonly ManualResetEventSlim AllowReopen = new(true);

        public string Description => "scripted";
        public bool IsRecording => false;
        public double FrameRate => 0;

        public void Open()
        {
            lock (OpenTicks) OpenTicks.Add(RobotCtl.Core.Timing.MonotonicClock.Now);
            Opens++;
            if (Opens > 1 && FailOpensAfterFirst-- > 0) throw new CameraException("scripted: device busy");
            if (!AllowReopen.Wait(TimeSpan.FromSeconds(30))) throw new CameraException("scripted: the test never allowed the reopen");
            Broken = false;
        }

        public GrabResult Grab(Frame destination, out string? error)
        {
            Thread.Sleep(2);
            if (Broken)
            {
                error = "scripted: cable pulled";
                return GrabResult.Failed;
            }
            destination.EnsureSize(8, 8);
            destination.Pixels.AsSpan().Fill((byte)(++FrameValue));
            error = null;
            return GrabResult.Frame;
        }

        public void Close() => Closes++;
        public void Dispose() { Close(); AllowReopen.Dispose(); }
    }

    [Fact]
    public void A_read_failure_reconnects_with_doubling_backoff_and_frames_flow_again()
    {
        var grabber = new ScriptedGrabber { FailOpensAfterFirst = 2 };
        var request = new CameraRequest { ReconnectInitialDelay = TimeSpan.FromMilliseconds(40), ReconnectMaxDelay = TimeSpan.FromSeconds(1) };
        using var camera = new CaptureCamera(grabber, request);
        var notices = new List<string>();
        camera.Notice += n => { lock (notices) notices.Add(n); };
        camera.Start();
        var frame = new Frame(1, 1);
        Assert.True(SpinWait.SpinUntil(() => camera.ReadLatest(TimeSpan.FromSeconds(1), frame) == FrameReadStatus.Ok, Generous), "a first frame");

        // The successful reopen is held back until the reads during the reconnect are checked: with only the
        // backoff (280 ms in all) in between, a stall on a loaded machine could let the camera recover first.
        grabber.AllowReopen.Reset();
        grabber.Broken = true;
        Assert.True(SpinWait.SpinUntil(() => camera.State == CameraState.Reconnecting, Generous), "the camera to start reconnecting");
        Assert.Equal(FrameReadStatus.Failed, camera.ReadLatest(TimeSpan.FromSeconds(10), frame));
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref grabber.Opens) == 4, Generous), "the fourth open (the two failures before it)");
        Assert.Equal(CameraState.Reconnecting, camera.State);
        Assert.Equal(FrameReadStatus.Failed, camera.ReadLatest(TimeSpan.FromSeconds(10), frame));
        grabber.AllowReopen.Set();
        Assert.True(SpinWait.SpinUntil(() => camera.Reconnects == 1, Generous), "the reconnect");
        var before = camera.FramesCaptured;
        Assert.True(SpinWait.SpinUntil(() => camera.FramesCaptured > before + 2, Generous), "frames after the reconnect");
        Assert.Equal(FrameReadStatus.Ok, camera.ReadLatest(TimeSpan.FromSeconds(1), frame));

        // Open #1 at start; #2 and #3 fail; #4 succeeds. Waits before them: 40, 80, 160 ms (doubling). Lower bounds
        // only: a loaded machine makes the gaps longer, never shorter.
        // (CaptureCamera waits on the wall clock; with a TimeProvider there these could be exact.)
        Assert.Equal(4, grabber.Opens);
        long[] ticks;
        lock (grabber.OpenTicks) ticks = [.. grabber.OpenTicks];
        var gap23 = RobotCtl.Core.Timing.MonotonicClock.TicksToMs(ticks[2] - ticks[1]);
        var gap34 = RobotCtl.Core.Timing.MonotonicClock.TicksToMs(ticks[3] - ticks[2]);
        Assert.True(gap23 >= 75, $"second wait {gap23:0} ms, expected >= 80");
        Assert.True(gap34 >= 155, $"third wait {gap34:0} ms, expected >= 160");
        Assert.Contains("scripted: device busy", camera.LastError);
        lock (notices)
        {
            Assert.Contains(notices, n => n.Contains("cable pulled") && n.Contains("reconnecting"));
            Assert.Contains(notices, n => n.Contains("reconnected after 3 attempt(s)"));
        }
    }

    [Fact]
    public void No_frame_yet_and_disposal_are_reported()
    {
        var grabber = new ScriptedGrabber { Broken = true };
        var camera = new CaptureCamera(grabber, new CameraRequest());
        Assert.Equal(FrameReadStatus.NoFrame, camera.ReadLatest(TimeSpan.FromSeconds(1), new Frame(1, 1)));
        camera.Dispose();
        Assert.Equal(FrameReadStatus.Failed, camera.ReadLatest(TimeSpan.FromSeconds(1), new Frame(1, 1)));
        Assert.Throws<ObjectDisposedException>(camera.Start);
        Assert.True(grabber.Closes >= 1);
    }

    [Fact]
    public void Frozen_detector_compares_fully_when_subsample_hashes_agree()
    {
        var detector = new FrozenStreamDetector(threshold: 3);
        var a = TestImages.Random(640, 480, 1);
        var b = new Frame(640, 480);
        a.CopyTo(b);
        Assert.False(detector.IsSameImage(a, null));
        Assert.True(detector.IsSameImage(b, a));
        // One byte off the sample grid: the hash agrees, the full comparison does not.
        var c = new Frame(640, 480);
        b.CopyTo(c);
        c.Pixels[13] ^= 0xFF;
        Assert.Equal(FrozenStreamDetector.SampleHash(b.Pixels), FrozenStreamDetector.SampleHash(c.Pixels));
        Assert.False(detector.IsSameImage(c, b));

        detector.Observe(false);
        detector.Observe(true);
        Assert.False(detector.IsFrozen);
        detector.Observe(true);
        Assert.True(detector.IsFrozen);
        detector.Observe(false);
        Assert.False(detector.IsFrozen);
    }
}
