using System.Diagnostics;
using RobotCtl.Core.Vision;
using RobotCtl.Vision.Cameras;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Vision.Tests;

/// <summary>Real capture through OpenCV's FFmpeg backend from MJPG .avi files written by OpenCV's VideoWriter.</summary>
public class CaptureCameraFileTests : IDisposable
{
    private const int Width = 320, Height = 240;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string WriteVideo(int frames, double fps, Func<int, Frame> frame)
    {
        var path = _dir.File($"clip-{Guid.NewGuid():N}.avi");
        using var writer = new VideoFileWriter(path, Width, Height, fps, "MJPG");
        for (var i = 0; i < frames; i++) writer.Write(frame(i));
        return path;
    }

    private const int Generous = 30_000; // ms: a bound for "eventually", far above an idle machine's milliseconds

    /// <summary>Polls the camera until <paramref name="done"/>; past the bound fails saying what it waited for.</summary>
    private static FrameReadStatus WaitFor(CaptureCamera camera, Frame into, TimeSpan maxAge, Func<FrameReadStatus, bool> done, string what = "the next frame")
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var status = camera.ReadLatest(maxAge, into);
            if (done(status)) return status;
            if (clock.ElapsedMilliseconds > Generous)
                throw new TimeoutException($"timed out after {Generous / 1000} s waiting for {what} (last read: {status}, camera {camera.State})");
            Thread.Sleep(1); // poll interval
        }
    }

    /// <summary>Waits (bounded) until a frame captured at <paramref name="captureTicks"/> is older than <paramref name="age"/>.</summary>
    private static void WaitUntilOlderThan(long captureTicks, TimeSpan age) =>
        Assert.True(SpinWait.SpinUntil(() => RobotCtl.Core.Timing.MonotonicClock.Elapsed(captureTicks) > age, Generous), $"the last frame to be older than {age.TotalMilliseconds} ms");

    [Fact]
    public void Lockstep_playback_delivers_every_frame_in_order_with_increasing_timestamps()
    {
        const int count = 40;
        var path = WriteVideo(count, 30, i => TestImages.WithIndex(Width, Height, i));
        using var camera = new CaptureCamera(CameraSource.Parse(path), new CameraRequest { Pacing = PlaybackPacing.Lockstep });
        camera.Start();
        Assert.Contains("320x240", camera.Description);

        var frame = new Frame(1, 1);
        var indices = new List<int>();
        long lastTicks = long.MinValue, lastSequence = 0;
        while (indices.Count < count)
        {
            var status = WaitFor(camera, frame, TimeSpan.FromSeconds(5), s => s == FrameReadStatus.Ok && frame.Sequence != lastSequence);
            Assert.Equal(FrameReadStatus.Ok, status);
            Assert.Equal(lastSequence + 1, frame.Sequence);
            Assert.True(frame.CaptureTicks > lastTicks, "capture timestamps must increase");
            Assert.Equal((Width, Height), (frame.Width, frame.Height));
            (lastSequence, lastTicks) = (frame.Sequence, frame.CaptureTicks);
            indices.Add(TestImages.ReadIndex(frame));
        }
        Assert.Equal(Enumerable.Range(0, count), indices);
        Assert.True(SpinWait.SpinUntil(() => camera.State == CameraState.Ended, Generous), $"the end of the clip (state {camera.State})");
        Assert.Equal(count, camera.FramesCaptured);
    }

    [Fact]
    public void Source_rate_pacing_plays_at_the_files_frame_rate()
    {
        // 20 frames at 50 fps last 0.4 s of playback; as fast as possible they decode in a few milliseconds.
        var path = WriteVideo(20, 50, i => TestImages.WithIndex(Width, Height, i));
        using var camera = new CaptureCamera(CameraSource.Parse(path), new CameraRequest { Pacing = PlaybackPacing.SourceRate });
        var clock = Stopwatch.StartNew();
        camera.Start();
        Assert.True(SpinWait.SpinUntil(() => camera.State == CameraState.Ended, Generous), $"the end of the clip (state {camera.State})");
        // A lower bound only (load makes playback later, never earlier): no upper speed bound.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.36), $"20 frames at 50 fps ended after {clock.Elapsed.TotalMilliseconds:0} ms");
        Assert.Equal(20, camera.FramesCaptured);
    }

    [Fact]
    public void A_frame_older_than_max_age_is_refused_as_stale()
    {
        var path = WriteVideo(3, 30, i => TestImages.WithIndex(Width, Height, i));
        using var camera = new CaptureCamera(CameraSource.Parse(path), new CameraRequest { Pacing = PlaybackPacing.AsFastAsPossible });
        camera.Start();
        Assert.True(SpinWait.SpinUntil(() => camera.State == CameraState.Ended, Generous), $"the end of the clip (state {camera.State})");
        var probe = new Frame(1, 1);
        Assert.Equal(FrameReadStatus.Ok, camera.ReadLatest(TimeSpan.FromMinutes(1), probe));
        WaitUntilOlderThan(probe.CaptureTicks, TimeSpan.FromMilliseconds(100)); // the condition itself, not a sleep
        var frame = new Frame(1, 1);
        Assert.Equal(FrameReadStatus.Stale, camera.ReadLatest(TimeSpan.FromMilliseconds(50), frame));
        Assert.Equal(1, frame.Width); // nothing copied
        Assert.Equal(FrameReadStatus.Ok, camera.ReadLatest(TimeSpan.FromMinutes(1), frame));
        Assert.Equal(2, TestImages.ReadIndex(frame));
        Assert.Equal(3, frame.Sequence);
    }

    [Fact]
    public void Identical_frames_are_reported_as_a_frozen_stream_and_a_changing_one_recovers()
    {
        var still = TestImages.WithIndex(Width, Height, 5);
        // 12 identical frames, then changing ones: with a threshold of 8 the stream is frozen, then thaws.
        var path = WriteVideo(20, 30, i => i < 12 ? still : TestImages.WithIndex(Width, Height, i));
        using var camera = new CaptureCamera(CameraSource.Parse(path),
            new CameraRequest { Pacing = PlaybackPacing.Lockstep, FrozenFrameCount = 8 });
        var notices = new List<string>();
        camera.Notice += n => { lock (notices) notices.Add(n); };
        camera.Start();

        var frame = new Frame(1, 1);
        var statuses = new List<FrameReadStatus>();
        for (var i = 0; i < 20; i++)
        {
            // In lockstep a frame refused as frozen counts as seen, so playback goes on.
            Assert.True(SpinWait.SpinUntil(() => camera.FramesCaptured == i + 1, Generous), $"frame {i + 1} not captured (captured {camera.FramesCaptured})");
            var status = camera.ReadLatest(TimeSpan.FromSeconds(5), frame);
            statuses.Add(status);
        }
        Assert.All(statuses.Take(7), s => Assert.Equal(FrameReadStatus.Ok, s));
        Assert.All(statuses.Skip(7).Take(5), s => Assert.Equal(FrameReadStatus.Frozen, s));
        Assert.All(statuses.Skip(12), s => Assert.Equal(FrameReadStatus.Ok, s));
        lock (notices)
        {
            Assert.Contains(notices, n => n.Contains("frozen (8 identical frames)"));
            Assert.Contains(notices, n => n.Contains("no longer frozen"));
        }
    }

    [Fact]
    public void Looping_playback_starts_again_at_the_first_frame()
    {
        var path = WriteVideo(4, 30, i => TestImages.WithIndex(Width, Height, i));
        using var camera = new CaptureCamera(CameraSource.Parse(path), new CameraRequest { Pacing = PlaybackPacing.Lockstep, Loop = true });
        camera.Start();
        var frame = new Frame(1, 1);
        var indices = new List<int>();
        long last = 0;
        while (indices.Count < 10)
        {
            Assert.Equal(FrameReadStatus.Ok, WaitFor(camera, frame, TimeSpan.FromSeconds(5), s => s == FrameReadStatus.Ok && frame.Sequence != last));
            last = frame.Sequence;
            indices.Add(TestImages.ReadIndex(frame));
        }
        Assert.Equal([0, 1, 2, 3, 0, 1, 2, 3, 0, 1], indices);
        Assert.Equal(CameraState.Running, camera.State);
    }

    [Fact]
    public void A_missing_file_fails_with_a_camera_exception_naming_the_source()
    {
        var missing = _dir.File("nope.avi");
        using var camera = CaptureCamera.Create(missing);
        var e = Assert.Throws<CameraException>(camera.Start);
        Assert.Contains(missing, e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void A_file_opencv_cannot_open_reports_what_opencv_said()
    {
        var bogus = _dir.File("bogus.avi");
        File.WriteAllText(bogus, "this is not a video");
        using var camera = CaptureCamera.Create(bogus);
        var e = Assert.Throws<CameraException>(camera.Start);
        Assert.Contains(bogus, e.Message);
        Assert.Contains("could not open", e.Message);
    }

    [Fact]
    public void A_missing_device_fails_with_a_camera_exception()
    {
        using var camera = CaptureCamera.Create("/dev/video-robotctl-missing");
        Assert.Contains("does not exist", Assert.Throws<CameraException>(camera.Start).Message);
    }

    [Fact]
    public void A_directory_of_images_plays_in_name_order_at_its_own_sizes()
    {
        var frames = _dir.File("frames");
        Directory.CreateDirectory(frames);
        for (var i = 0; i < 5; i++) ImageIo.SavePng(Path.Combine(frames, $"frame_{i:D3}.png"), TestImages.WithIndex(Width + 8 * i, Height, 4 - i));
        File.WriteAllText(Path.Combine(frames, "notes.txt"), "not an image: ignored");
        using var camera = CaptureCamera.Create(frames, new CameraRequest { Pacing = PlaybackPacing.Lockstep });
        camera.Start();
        Assert.Contains("5 images", camera.Description);
        var frame = new Frame(1, 1);
        long last = 0;
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(FrameReadStatus.Ok, WaitFor(camera, frame, TimeSpan.FromSeconds(5), s => s == FrameReadStatus.Ok && frame.Sequence != last));
            last = frame.Sequence;
            Assert.Equal(4 - i, TestImages.ReadIndex(frame)); // PNG is lossless: exact
            Assert.Equal(Width + 8 * i, frame.Width);
        }
        Assert.True(SpinWait.SpinUntil(() => camera.State == CameraState.Ended, Generous), $"the end of the images (state {camera.State})");
    }

    [Fact]
    public void An_empty_image_directory_fails_clearly()
    {
        using var camera = CaptureCamera.Create("dir:" + _dir.Path);
        Assert.Contains("no image files", Assert.Throws<CameraException>(camera.Start).Message);
    }

    [Fact]
    public void Dispose_stops_the_capture_thread_and_reports_failed_reads_afterwards()
    {
        var path = WriteVideo(5, 30, i => TestImages.WithIndex(Width, Height, i));
        var camera = new CaptureCamera(CameraSource.Parse(path), new CameraRequest { Pacing = PlaybackPacing.SourceRate, Loop = true });
        camera.Start();
        Assert.True(SpinWait.SpinUntil(() => camera.FramesCaptured > 0, Generous), "a first frame");
        camera.Dispose();
        var captured = camera.FramesCaptured;
        Thread.Sleep(100); // not synchronisation: a window in which a capture thread still running would show
        Assert.Equal(captured, camera.FramesCaptured);
        Assert.Equal(CameraState.Stopped, camera.State);
        Assert.Equal(FrameReadStatus.Failed, camera.ReadLatest(TimeSpan.FromMinutes(1), new Frame(1, 1)));
    }
}
