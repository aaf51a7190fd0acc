using RobotCtl.Core.Vision;
using RobotCtl.Vision.Cameras;
using RobotCtl.Vision.Imaging;
using RobotCtl.Vision.Interop;

namespace RobotCtl.Vision.Tests;

/// <summary>
/// What robotctl shows of OpenCV: its reasons in errors, its log lines nowhere else; and what this build lacks.
/// Not run in parallel with other tests: fd 2 is the process's.
/// </summary>
[Collection(nameof(StderrCollection))]
public class OpenCvRuntimeTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Runs <paramref name="action"/> with fd 2 captured; returns what reached it.</summary>
    private static string Stderr(Action action)
    {
        using var capture = new StderrCapture();
        action();
        return capture.Finish();
    }

    /// <summary>Starts a camera on <paramref name="source"/>, which must fail; returns the error and what reached fd 2.</summary>
    private static (CameraException Error, string Printed) StartFails(string source)
    {
        CameraException? error = null;
        var printed = Stderr(() =>
        {
            using var camera = CaptureCamera.Create(source);
            error = Assert.Throws<CameraException>(camera.Start);
        });
        return (error!, printed);
    }

    /// <summary>Writes clip.avi: <paramref name="frames"/> random 64x48 frames at 10 fps.</summary>
    private string RandomClip(int frames)
    {
        var path = _dir.File("clip.avi");
        using var writer = new VideoFileWriter(path, 64, 48, 10);
        for (var i = 0; i < frames; i++) writer.Write(TestImages.Random(64, 48, i));
        return path;
    }

    [Fact]
    public void A_gstreamer_source_fails_saying_this_build_lacks_gstreamer_and_what_to_use()
    {
        Assert.False(OpenCvRuntime.HasGStreamer);
        using var camera = CaptureCamera.Create("gst:videotestsrc ! videoconvert ! appsink");
        var e = Assert.Throws<CameraException>(camera.Start);
        Assert.Contains("no GStreamer support", e.Message);
        Assert.Contains("FFMPEG", e.Message);
        Assert.Contains("gst:videotestsrc", e.Message);
    }

    [Fact]
    public void A_failed_open_says_why_in_the_error_and_prints_nothing()
    {
        var bogus = _dir.File("bogus.avi");
        File.WriteAllText(bogus, "this is not a video");
        var (e, printed) = StartFails(bogus);
        Assert.Equal("", printed);
        Assert.Contains("could not open", e.Message);
        // OpenCV's own words, without its log prefix.
        Assert.DoesNotContain("[ WARN", e.Message);
    }

    [Fact]
    public void A_missing_device_index_fails_with_opencvs_reason_and_prints_nothing()
    {
        var (e, printed) = StartFails("63");
        Assert.Equal("", printed);
        Assert.Contains("v4l2:63", e.Message);
        Assert.Contains("could not open", e.Message);
    }

    [Fact]
    public void Reading_a_video_to_its_end_prints_nothing()
    {
        var path = RandomClip(5);
        var frames = 0;
        var printed = Stderr(() =>
        {
            using var grabber = new VideoCaptureGrabber(CameraSource.Parse(path), CameraRequest.Default);
            grabber.Open();
            var frame = new Frame(1, 1);
            while (grabber.Grab(frame, out _) == GrabResult.Frame) frames++;
        });
        Assert.Equal(5, frames);
        Assert.Equal("", printed);
    }

    [Fact]
    public void An_mp4v_mp4_as_the_dashboard_writes_it_reads_back_frame_for_frame()
    {
        var path = _dir.File("episode.mp4");
        var printed = Stderr(() =>
        {
            using var writer = new VideoFileWriter(path, 64, 48, 10, "mp4v");
            for (var i = 0; i < 4; i++) writer.Write(TestImages.Filled(64, 48, (byte)(40 * i), 100, 200));
        });
        Assert.Equal("", printed);
        using var grabber = new VideoCaptureGrabber(CameraSource.Parse(path), CameraRequest.Default);
        grabber.Open();
        Assert.Contains("FFMPEG", grabber.Description);
        var frame = new Frame(1, 1);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(GrabResult.Frame, grabber.Grab(frame, out _));
            Assert.Equal((64, 48), (frame.Width, frame.Height));
            Assert.InRange(frame.Pixels[64 * 24 * 3 + 32 * 3], Math.Max(0, 40 * i - 8), 40 * i + 8); // blue of the centre pixel, lossy
        }
        Assert.Equal(GrabResult.EndOfStream, grabber.Grab(frame, out _));
    }

    [Fact]
    public void A_video_writer_that_cannot_open_says_so()
    {
        var e = Assert.Throws<VisionException>(() => new VideoFileWriter(_dir.File("missing-dir/x.avi"), 64, 48, 10));
        Assert.Contains("missing-dir/x.avi", e.Message);
        Assert.Contains("could not open a video writer", e.Message);
    }

    [Fact]
    public void Capture_reads_allocate_nothing_once_the_frame_has_its_size()
    {
        var path = RandomClip(32); // enough for three measured windows
        using var grabber = new VideoCaptureGrabber(CameraSource.Parse(path), CameraRequest.Default);
        grabber.Open();
        var frame = new Frame(1, 1);
        Assert.Equal(GrabResult.Frame, grabber.Grab(frame, out _));
        var grabs = 0;
        var frames = 0;
        var allocated = Allocations.Of(() =>
        {
            grabs++;
            if (grabber.Grab(frame, out _) == GrabResult.Frame) frames++;
        }, times: 10);
        Assert.Equal(grabs, frames);
        Assert.Equal(0, allocated);
    }
}

[CollectionDefinition(nameof(StderrCollection), DisableParallelization = true)]
public sealed class StderrCollection;
