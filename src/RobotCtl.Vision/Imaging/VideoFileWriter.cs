using OpenCvSharp;
using RobotCtl.Core.Vision;
using RobotCtl.Vision.Interop;

namespace RobotCtl.Vision.Imaging;

/// <summary>
/// Writes BGR frames to a video file through OpenCV's VideoWriter (e.g. MJPG in .avi, mp4v in .mp4; OpenCV's FFmpeg
/// backend reads both back). Every frame must have the size given at construction.
/// </summary>
public sealed class VideoFileWriter : IDisposable
{
    private readonly VideoWriter _writer;

    public VideoFileWriter(string path, int width, int height, double fps, string fourcc = "MJPG")
    {
        ArgumentNullException.ThrowIfNull(path);
        if (fourcc is not { Length: 4 }) throw new ArgumentException($"FOURCC must be 4 characters, found '{fourcc}'", nameof(fourcc));
        if (width <= 0 || height <= 0) throw new ArgumentException($"video size must be positive, found {width}x{height}");
        if (!(fps > 0) || !double.IsFinite(fps)) throw new ArgumentException($"video fps must be positive, found {fps}", nameof(fps));
        var what = $"cannot write video '{path}' ({fourcc} {width}x{height}@{fps})";
        VideoWriter? writer = null;
        string said;
        try
        {
            writer = OpenCvRuntime.Open(() => new VideoWriter(path, FourCC.FromString(fourcc), fps, new Size(width, height), isColor: true), out said);
        }
        catch (Exception e) when (e is OpenCVException or OpenCvSharpException)
        {
            writer?.Dispose();
            throw new VisionException($"{what}: {e.Message}", e);
        }
        if (!writer.IsOpened())
        {
            writer.Dispose();
            throw new VisionException($"{what}: OpenCV could not open a video writer" + (said.Length > 0 ? $": {said}" : ""));
        }
        _writer = writer;
        (Path, Width, Height) = (path, width, height);
    }

    public string Path { get; }
    public int Width { get; }
    public int Height { get; }

    public unsafe void Write(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (frame.Width != Width || frame.Height != Height)
            throw new ArgumentException($"video '{Path}' is {Width}x{Height}, frame is {frame.Width}x{frame.Height}", nameof(frame));
        try
        {
            fixed (byte* p = frame.Pixels)
            {
                using var image = Mat.FromPixelData(Height, Width, MatType.CV_8UC3, (IntPtr)p);
                _writer.Write(image);
            }
        }
        catch (OpenCVException e)
        {
            throw new VisionException($"cannot write a frame to '{Path}': {e.Message}", e);
        }
    }

    /// <summary>Finalises the file (the container's index is written on close).</summary>
    public void Dispose() => _writer.Dispose();
}
