using RobotCtl.Vision.Cameras;

namespace RobotCtl.Vision.Tests;

public class CameraSourceTests
{
    [Theory]
    [InlineData("/dev/video0", CameraSourceKind.Device, "/dev/video0")]
    [InlineData("0", CameraSourceKind.Device, "0")]
    [InlineData("v4l2:2", CameraSourceKind.Device, "2")]
    [InlineData("v4l2:/dev/video4", CameraSourceKind.Device, "/dev/video4")]
    [InlineData("file:clips/a.avi", CameraSourceKind.VideoFile, "clips/a.avi")]
    [InlineData("clips/missing.mp4", CameraSourceKind.VideoFile, "clips/missing.mp4")]
    [InlineData("dir:frames", CameraSourceKind.ImageDirectory, "frames")]
    [InlineData("rtsp://10.0.0.5:554/stream1", CameraSourceKind.Rtsp, "rtsp://10.0.0.5:554/stream1")]
    [InlineData("RTSPS://cam.local/live", CameraSourceKind.Rtsp, "RTSPS://cam.local/live")]
    [InlineData("gst:videotestsrc ! videoconvert ! appsink", CameraSourceKind.GStreamer, "videotestsrc ! videoconvert ! appsink")]
    [InlineData("  SIM ", CameraSourceKind.Sim, "sim")]
    public void Parses_each_source_form(string text, CameraSourceKind kind, string location)
    {
        var source = CameraSource.Parse(text);
        Assert.Equal(kind, source.Kind);
        Assert.Equal(location, source.Location);
    }

    [Fact]
    public void An_existing_directory_is_an_image_directory_and_an_index_has_a_device_index()
    {
        using var dir = new TempDir();
        Assert.Equal(CameraSourceKind.ImageDirectory, CameraSource.Parse(dir.Path).Kind);
        Assert.Equal(3, CameraSource.Parse("3").DeviceIndex);
        Assert.Null(CameraSource.Parse("/dev/video3").DeviceIndex);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("v4l2:camera", "/dev/videoN or an index")]
    [InlineData("-1", "0 or more")]
    [InlineData("http://cam/mjpg", "unsupported URL scheme 'http'")]
    [InlineData("rtsp://", "not a valid RTSP URL")]
    [InlineData("gst:videotestsrc ! fakesink", "appsink")]
    [InlineData("videotestsrc ! appsink", "gst:")]
    [InlineData("file:", "file path is empty")]
    public void Bad_sources_are_refused_with_a_reason(string text, string reason)
    {
        var e = Assert.Throws<FormatException>(() => CameraSource.Parse(text));
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void Request_validation_names_the_bad_value()
    {
        Assert.Contains("FOURCC", Assert.Throws<ArgumentException>(() => new CameraRequest { FourCC = "MJPEG" }.Validate()).Message);
        Assert.Contains("fps", Assert.Throws<ArgumentException>(() => new CameraRequest { Fps = 0 }.Validate()).Message);
        Assert.Contains("size", Assert.Throws<ArgumentException>(() => new CameraRequest { Width = -640 }.Validate()).Message);
    }
}

public class OpenCvMessageTests
{
    [Fact]
    public void OpenCv_log_lines_lose_their_location_prefix()
    {
        const string said = "OpenCV could not open the source: [ WARN:0@0.015] global ./modules/videoio/src/cap_gstreamer.cpp (1127) open OpenCV | GStreamer warning: Error opening bin: no element \"videotestsrc\"\n" +
                            "[ WARN:0@0.016] global ./modules/videoio/src/cap_gstreamer.cpp (862) isPipelinePlaying OpenCV | GStreamer warning: pipeline have not been created\n";
        Assert.Equal("OpenCV could not open the source: OpenCV | GStreamer warning: Error opening bin: no element \"videotestsrc\"; OpenCV | GStreamer warning: pipeline have not been created",
            RobotCtl.Vision.Cameras.VideoCaptureGrabber.Tidy(said));
    }
}
