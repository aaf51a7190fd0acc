using OpenCvSharp;
using RobotCtl.Core.Vision;
using RobotCtl.Vision.Interop;

namespace RobotCtl.Vision.Cameras;

/// <summary>Frames from OpenCV's VideoCapture: V4L2 devices, and video files and RTSP streams through FFmpeg.</summary>
internal sealed class VideoCaptureGrabber(CameraSource source, CameraRequest request) : IFrameGrabber
{
    // cv::CAP_PROP_OPEN_TIMEOUT_MSEC and CAP_PROP_READ_TIMEOUT_MSEC (not named in OpenCvSharp's enum).
    private const int PropOpenTimeoutMsec = 53, PropReadTimeoutMsec = 54;

    private VideoCapture? _capture;
    // Decoded frame and its conversion: made once, so reading a stream allocates nothing managed per frame.
    private readonly Mat _raw = new();
    private InputArray? _rawIn;
    private Bgr8? _converter;
    private string _description = source.ToString();

    public string Description => _description;
    public bool IsRecording => source.Kind == CameraSourceKind.VideoFile;
    public double FrameRate { get; private set; }

    public void Open()
    {
        Close();
        if (source.Kind == CameraSourceKind.VideoFile && !File.Exists(source.Location))
            throw new CameraException($"camera {source}: video file '{source.Location}' does not exist");
        if (source.Kind == CameraSourceKind.Device && source.DeviceIndex is null && !File.Exists(source.Location))
            throw new CameraException($"camera {source}: device '{source.Location}' does not exist");
        var api = source.Kind switch
        {
            CameraSourceKind.Device => VideoCaptureAPIs.V4L2,
            CameraSourceKind.GStreamer => VideoCaptureAPIs.GSTREAMER,
            CameraSourceKind.VideoFile or CameraSourceKind.Rtsp => VideoCaptureAPIs.FFMPEG,
            _ => throw new ArgumentException($"{source.Kind} is not an OpenCV capture source"),
        };
        try
        {
            OpenCvRuntime.EnsureLoaded();
        }
        catch (VisionException e)
        {
            throw new CameraException($"camera {source}: {e.Message}");
        }
        if (api == VideoCaptureAPIs.GSTREAMER && !OpenCvRuntime.HasGStreamer)
            throw new CameraException(
                $"camera {source}: this OpenCV build (OpenCvSharp's official Linux runtime) has no GStreamer support, so gst: pipelines " +
                "cannot be opened; RTSP streams (rtsp://...) and video files (file:...) are read through FFMPEG, V4L2 devices directly");

        // Timeouts apply to network streams (FFmpeg); OpenCV takes them as open parameters.
        var network = source.Kind == CameraSourceKind.Rtsp;
        int[] parameters = network
            ? [PropOpenTimeoutMsec, (int)request.OpenTimeout.TotalMilliseconds, PropReadTimeoutMsec, (int)request.ReadTimeout.TotalMilliseconds]
            : [];
        VideoCapture? capture = null;
        string said;
        try
        {
            capture = OpenCvRuntime.Open(
                () => source.DeviceIndex is { } index ? new VideoCapture(index, api, parameters) : new VideoCapture(source.Location, api, parameters),
                out said);
        }
        catch (Exception e) when (e is OpenCVException or OpenCvSharpException)
        {
            capture?.Dispose();
            throw new CameraException($"camera {source}: cannot open: {e.Message}");
        }
        if (!capture.IsOpened())
        {
            capture.Dispose();
            throw new CameraException($"camera {source}: cannot open: " +
                (said.Length == 0 ? "OpenCV could not open the source and gave no reason" : $"OpenCV could not open the source: {said}"));
        }
        if (!IsRecording)
        {
            // FOURCC before size and rate: V4L2 drivers offer sizes per pixel format.
            if (request.FourCC is { } fourcc) capture.Set(VideoCaptureProperties.FourCC, FourCC.FromString(fourcc).Value);
            if (request.Width is { } w) capture.Set(VideoCaptureProperties.FrameWidth, w);
            if (request.Height is { } h) capture.Set(VideoCaptureProperties.FrameHeight, h);
            if (request.Fps is { } fps) capture.Set(VideoCaptureProperties.Fps, fps);
        }
        _capture = capture;
        FrameRate = capture.Get(VideoCaptureProperties.Fps);
        if (!(FrameRate is > 0 and < 1000)) FrameRate = 0;
        var width = (int)capture.Get(VideoCaptureProperties.FrameWidth);
        var height = (int)capture.Get(VideoCaptureProperties.FrameHeight);
        var code = FourCCText((int)capture.Get(VideoCaptureProperties.FourCC));
        string backend;
        try { backend = capture.GetBackendName(); }
        catch (OpenCVException) { backend = "?"; }
        _description = $"{source} {width}x{height}@{FrameRate:0.##}{(code is null ? "" : " " + code)} ({backend})";
    }

    public GrabResult Grab(Frame destination, out string? error)
    {
        error = null;
        if (_capture is null) { error = "not open"; return GrabResult.Failed; }
        bool got;
        try
        {
            got = OpenCvRuntime.Read(_capture, _raw) && !_raw.Empty();
        }
        catch (OpenCVException e)
        {
            error = e.Message;
            return GrabResult.Failed;
        }
        if (!got)
        {
            if (IsRecording) return GrabResult.EndOfStream;
            error = "the source returned no frame (disconnected or timed out)";
            return GrabResult.Failed;
        }
        var bgr = _raw;
        if (_raw.Depth() != MatType.CV_8U || _raw.Channels() != 3)
        {
            // Gray, 16-bit or BGRA sources: the wrappers are made on the first such frame, then reused.
            _converter ??= new Bgr8();
            _rawIn ??= InputArray.Create(_raw);
            bgr = _converter.Convert(_raw, _rawIn, out error);
            if (bgr is null) return GrabResult.Failed;
        }
        Bgr8.CopyTo(bgr, destination);
        return GrabResult.Frame;
    }

    public void Close()
    {
        _capture?.Dispose();
        _capture = null;
    }

    public void Dispose()
    {
        Close();
        _rawIn?.Dispose();
        _converter?.Dispose();
        _raw.Dispose();
    }

    /// <summary>OpenCV's log lines, without their location prefixes, on one line.</summary>
    internal static string Tidy(string message) => OpenCvRuntime.Tidy(message);

    private static string? FourCCText(int code)
    {
        if (code == 0) return null;
        Span<char> c = stackalloc char[4];
        for (var i = 0; i < 4; i++)
        {
            var b = (code >> (8 * i)) & 0xFF;
            if (b is < 32 or > 126) return null;
            c[i] = (char)b;
        }
        return new string(c);
    }
}
