using RobotCtl.Core.Vision;
using RobotCtl.Vision.Interop;

namespace RobotCtl.Vision.Imaging;

/// <summary>
/// Writes BGR frames to a video file through OpenCV's VideoWriter (e.g. MJPG in .avi, which OpenCV's FFmpeg
/// backend reads back). Every frame must have the size given at construction.
/// </summary>
public sealed unsafe class VideoFileWriter : IDisposable
{
    private readonly WriterHandle _handle;

    public VideoFileWriter(string path, int width, int height, double fps, string fourcc = "MJPG")
    {
        ArgumentNullException.ThrowIfNull(path);
        if (fourcc is not { Length: 4 }) throw new ArgumentException($"FOURCC must be 4 characters, found '{fourcc}'", nameof(fourcc));
        if (NativeMethods.rcv_writer_open(path, fourcc, fps, width, height, out _handle) != NativeMethods.Ok)
        {
            var message = NativeMethods.LastError();
            _handle.Dispose();
            throw new VisionException($"cannot write video '{path}' ({fourcc} {width}x{height}@{fps}): {message}");
        }
        (Path, Width, Height) = (path, width, height);
    }

    public string Path { get; }
    public int Width { get; }
    public int Height { get; }

    public void Write(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (frame.Width != Width || frame.Height != Height)
            throw new ArgumentException($"video '{Path}' is {Width}x{Height}, frame is {frame.Width}x{frame.Height}", nameof(frame));
        fixed (byte* p = frame.Pixels)
            if (NativeMethods.rcv_writer_write(_handle, p, Width, Height) != NativeMethods.Ok)
                throw new VisionException($"cannot write a frame to '{Path}': {NativeMethods.LastError()}");
    }

    /// <summary>Finalises the file (the container's index is written on close).</summary>
    public void Dispose() => _handle.Dispose();
}
