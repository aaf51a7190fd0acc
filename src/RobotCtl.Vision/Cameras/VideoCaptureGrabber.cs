using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using RobotCtl.Core.Vision;
using RobotCtl.Vision.Interop;

namespace RobotCtl.Vision.Cameras;

/// <summary>Frames from OpenCV's VideoCapture: V4L2 devices, video files, RTSP and GStreamer.</summary>
internal sealed unsafe partial class VideoCaptureGrabber(CameraSource source, CameraRequest request) : IFrameGrabber
{
    // cv::VideoCaptureAPIs and cv::VideoCaptureProperties values used here.
    private const int CapV4L2 = 200, CapGStreamer = 1800, CapFfmpeg = 1900;
    private const int PropFrameWidth = 3, PropFrameHeight = 4, PropFps = 5, PropFourCC = 6;

    private CaptureHandle? _capture;
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
            CameraSourceKind.Device => CapV4L2,
            CameraSourceKind.GStreamer => CapGStreamer,
            CameraSourceKind.VideoFile or CameraSourceKind.Rtsp => CapFfmpeg,
            _ => throw new ArgumentException($"{source.Kind} is not an OpenCV capture source"),
        };
        var network = source.Kind == CameraSourceKind.Rtsp;
        var rc = NativeMethods.rcv_capture_open(
            source.DeviceIndex is null ? source.Location : null, source.DeviceIndex ?? -1, api,
            IsRecording ? 0 : request.Width ?? 0, IsRecording ? 0 : request.Height ?? 0, IsRecording ? 0 : request.Fps ?? 0,
            IsRecording ? null : request.FourCC,
            network ? (int)request.OpenTimeout.TotalMilliseconds : 0, network ? (int)request.ReadTimeout.TotalMilliseconds : 0,
            out var capture);
        if (rc != NativeMethods.Ok)
        {
            var message = Tidy(NativeMethods.LastError());
            capture.Dispose();
            throw new CameraException($"camera {source}: cannot open: {message}");
        }
        _capture = capture;
        FrameRate = NativeMethods.rcv_capture_get(capture, PropFps);
        if (!(FrameRate is > 0 and < 1000)) FrameRate = 0;
        var width = (int)NativeMethods.rcv_capture_get(capture, PropFrameWidth);
        var height = (int)NativeMethods.rcv_capture_get(capture, PropFrameHeight);
        var fourcc = FourCCText((int)NativeMethods.rcv_capture_get(capture, PropFourCC));
        var backend = stackalloc byte[64];
        var backendName = NativeMethods.rcv_capture_backend(capture, backend, 64) == NativeMethods.Ok
            ? Marshal.PtrToStringUTF8((IntPtr)backend) : "?";
        _description = $"{source} {width}x{height}@{FrameRate:0.##}{(fourcc is null ? "" : " " + fourcc)} ({backendName})";
    }

    public GrabResult Grab(Frame destination, out string? error)
    {
        error = null;
        if (_capture is null) { error = "not open"; return GrabResult.Failed; }
        if (NativeMethods.rcv_capture_read(_capture, out var got, out var width, out var height) != NativeMethods.Ok)
        {
            error = NativeMethods.LastError();
            return GrabResult.Failed;
        }
        if (got == 0)
        {
            if (IsRecording) return GrabResult.EndOfStream;
            error = "the source returned no frame (disconnected or timed out)";
            return GrabResult.Failed;
        }
        destination.EnsureSize(width, height);
        fixed (byte* p = destination.Pixels)
            if (NativeMethods.rcv_capture_copy(_capture, p, destination.Pixels.Length) != NativeMethods.Ok)
            {
                error = NativeMethods.LastError();
                return GrabResult.Failed;
            }
        return GrabResult.Frame;
    }

    public void Close()
    {
        _capture?.Dispose();
        _capture = null;
    }

    public void Dispose() => Close();

    // "[ WARN:0@0.018] global ./modules/videoio/src/cap_v4l.cpp (902) open VIDEOIO(V4L2:/dev/video0): can't open camera by index"
    [GeneratedRegex(@"\[\s*\w+:[^\]]*\]\s*global\s+\S+\s+\(\d+\)\s+\w+\s+")]
    private static partial Regex OpenCvLogPrefix();

    /// <summary>OpenCV's log lines, without their location prefixes, on one line.</summary>
    internal static string Tidy(string message) =>
        string.Join("; ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => OpenCvLogPrefix().Replace(line, "")).Distinct());

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
