using System.Runtime.InteropServices;
using System.Text;
using OpenCvSharp;

namespace RobotCtl.Vision.Interop;

/// <summary>
/// The one place that loads OpenCV (OpenCvSharp's libOpenCvSharpExtern.so) and keeps its logging out of robotctl's
/// output. OpenCV's own log is silenced for the life of the process (Cv2.SetLogLevel) and FFmpeg's log level is set
/// to quiet (av_log_set_level, exported by the runtime's library, where FFmpeg is statically linked). Opening a
/// capture or writer is the one place where OpenCV explains a failure only in its log, so <see cref="Open{T}"/> turns
/// both logs on for that call, routes fd 2 into memory meanwhile and hands the text back for the error message.
/// </summary>
internal static partial class OpenCvRuntime
{
    private const int AvLogQuiet = -8, AvLogError = 16;
    private static readonly Lock OpenGate = new();
    private static readonly Lazy<Exception?> LoadFailure = new(Load);
    private static readonly Lazy<bool> GStreamer = new(() =>
        Cv2.GetBuildInformation().Split('\n').Any(l => l.TrimStart().StartsWith("GStreamer:", StringComparison.Ordinal) && l.Contains("YES", StringComparison.Ordinal)));

    /// <summary>Loads OpenCV once and silences its logs; throws <see cref="VisionException"/> saying what to install when it cannot load.</summary>
    public static void EnsureLoaded()
    {
        if (LoadFailure.Value is { } e)
            throw new VisionException(
                "cannot load OpenCV (libOpenCvSharpExtern.so of the NuGet package OpenCvSharp4.official.runtime.linux-x64): " +
                $"{e.GetBaseException().Message}. It needs GTK 3 (Debian: libgtk-3-0): run scripts/setup.", e);
    }

    /// <summary>Whether this OpenCV build reads GStreamer pipelines (the official OpenCvSharp runtime does not).</summary>
    public static bool HasGStreamer
    {
        get
        {
            EnsureLoaded();
            return GStreamer.Value;
        }
    }

    private static Exception? Load()
    {
        try
        {
            Cv2.SetLogLevel(LogLevel.SILENT);
            SetFfmpegLogLevel(AvLogQuiet);
            return null;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or BadImageFormatException or EntryPointNotFoundException)
        {
            return e;
        }
    }

    /// <summary>
    /// Runs <paramref name="open"/> (a VideoCapture or VideoWriter open) with OpenCV's and FFmpeg's logs on and fd 2 in
    /// memory; <paramref name="log"/> receives what they said, tidied to one line (empty when nothing). Opens are
    /// serialised: the log level and fd 2 are process-wide. Text that is not OpenCV's or FFmpeg's (another thread's)
    /// is written back to stderr.
    /// </summary>
    public static T Open<T>(Func<T> open, out string log)
    {
        EnsureLoaded();
        lock (OpenGate)
        {
            string said;
            T result;
            var previous = Cv2.SetLogLevel(LogLevel.WARNING); // WARNING and ERROR go to stderr (INFO and below to stdout)
            SetFfmpegLogLevel(AvLogError);
            using (var capture = new StderrCapture())
            {
                try
                {
                    result = open();
                }
                finally
                {
                    // OpenCV sets FFmpeg's level when it first registers FFmpeg (inside the first open): quiet again after it.
                    Cv2.SetLogLevel(previous);
                    SetFfmpegLogLevel(AvLogQuiet);
                    said = capture.Finish();
                }
            }
            var ours = new StringBuilder();
            var theirs = new List<string>();
            foreach (var line in said.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (IsOpenCvOrFfmpegLine(line)) theirs.Add(line);
                else ours.Append(line).Append('\n');
            }
            // Not a log of this library's: the redirect caught other threads' stderr lines (the host's console logger),
            // which go back where they were written to.
            if (ours.Length > 0) Console.Error.Write(ours.ToString());
            log = Tidy(string.Join('\n', theirs));
            return result;
        }
    }

    /// <summary>OpenCV's log lines, without their location prefixes, on one line.</summary>
    public static string Tidy(string message) =>
        string.Join("; ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => OpenCvLogPrefix().Replace(line, "")).Distinct());

    // "[ WARN:0@0.018] global cap_v4l.cpp:1000 open VIDEOIO(V4L2:/dev/video0): can't open camera by index" (4.13), or
    // "[ WARN:0@0.018] global ./modules/videoio/src/cap_v4l.cpp (902) open VIDEOIO(...)" (older releases)
    [System.Text.RegularExpressions.GeneratedRegex(@"\[\s*\w+:[^\]]*\]\s*global\s+\S+(\s+\(\d+\))?\s+\w+\s+")]
    private static partial System.Text.RegularExpressions.Regex OpenCvLogPrefix();

    // OpenCV's log ("[ WARN:0@...]", "[ERROR:0@...]") and FFmpeg's ("[mov,mp4 @ 0x...]", plain lines while opening).
    private static bool IsOpenCvOrFfmpegLine(string line) =>
        line.StartsWith('[') || line.Contains("VIDEOIO", StringComparison.Ordinal) || line.Contains("OpenCV", StringComparison.Ordinal);

    // OpenCvSharp's Cv2 functions dispose the OutputArray they are given (OutputArray.Fix), so a wrapper made once
    // would serve one call only, and making one per call is a managed allocation per frame. The per-frame paths call
    // the same native entry points with wrappers that stay valid.

    /// <summary>
    /// cv::remap (bilinear, black outside the source) of a BGR8 image in caller memory (width * 3 bytes per row). The
    /// cv::Mat header over that memory and its InputArray are native objects made and deleted here: no copy of the
    /// pixels and no managed wrapper per call.
    /// </summary>
    public static unsafe void Remap(byte* pixels, int width, int height, OutputArray destination, InputArray map1, InputArray map2)
    {
        IntPtr mat = 0, input = 0;
        try
        {
            OpenCvSharp.Internal.NativeMethods.HandleException(OpenCvSharp.Internal.NativeMethods.core_Mat_new8(
                height, width, MatType.CV_8UC3, (IntPtr)pixels, (IntPtr)(width * 3L), out mat));
            OpenCvSharp.Internal.NativeMethods.HandleException(OpenCvSharp.Internal.NativeMethods.core_InputArray_new_byMat(mat, out input));
            OpenCvSharp.Internal.NativeMethods.HandleException(OpenCvSharp.Internal.NativeMethods.imgproc_remap(
                input, destination.CvPtr, map1.CvPtr, map2.CvPtr, (int)InterpolationFlags.Linear, (int)BorderTypes.Constant, default));
        }
        finally
        {
            if (input != 0) OpenCvSharp.Internal.NativeMethods.core_InputArray_delete(input);
            if (mat != 0) OpenCvSharp.Internal.NativeMethods.core_Mat_delete(mat);
        }
        GC.KeepAlive(destination);
        GC.KeepAlive(map1);
        GC.KeepAlive(map2);
    }

    /// <summary>cv::resize INTER_AREA to <paramref name="size"/>.</summary>
    public static void ResizeArea(InputArray source, OutputArray destination, Size size)
    {
        OpenCvSharp.Internal.NativeMethods.HandleException(OpenCvSharp.Internal.NativeMethods.imgproc_resize(
            source.CvPtr, destination.CvPtr, size, 0, 0, (int)InterpolationFlags.Area));
        GC.KeepAlive(source);
        GC.KeepAlive(destination);
    }

    /// <summary>cv::cvtColor.</summary>
    public static void CvtColor(InputArray source, OutputArray destination, ColorConversionCodes code)
    {
        OpenCvSharp.Internal.NativeMethods.HandleException(OpenCvSharp.Internal.NativeMethods.imgproc_cvtColor(
            source.CvPtr, destination.CvPtr, (int)code, 0));
        GC.KeepAlive(source);
        GC.KeepAlive(destination);
    }

    /// <summary>cv::VideoCapture::read into <paramref name="image"/>; false at the end of the stream or on a read failure.</summary>
    public static bool Read(VideoCapture capture, Mat image)
    {
        OpenCvSharp.Internal.NativeMethods.HandleException(OpenCvSharp.Internal.NativeMethods.videoio_VideoCapture_read_Mat(
            capture.CvPtr, image.CvPtr, out var got));
        GC.KeepAlive(capture);
        GC.KeepAlive(image);
        return got != 0;
    }

    /// <summary>cv::Mat::convertTo (value * scale).</summary>
    public static void ConvertTo(Mat source, OutputArray destination, MatType type, double scale)
    {
        OpenCvSharp.Internal.NativeMethods.HandleException(OpenCvSharp.Internal.NativeMethods.core_Mat_convertTo(
            source.CvPtr, destination.CvPtr, type, scale, 0));
        GC.KeepAlive(source);
        GC.KeepAlive(destination);
    }

    private static void SetFfmpegLogLevel(int level)
    {
        try
        {
            av_log_set_level(level);
        }
        catch (EntryPointNotFoundException)
        {
            // A runtime without FFmpeg inside libOpenCvSharpExtern (e.g. one linked to a system FFmpeg): its default applies.
        }
    }

    [LibraryImport("OpenCvSharpExtern")]
    private static partial void av_log_set_level(int level);
}
