using RobotCtl.Core.Vision;

namespace RobotCtl.Vision.Cameras;

/// <summary>
/// One source of frames without any threading: <see cref="CaptureCamera"/> drives it from its capture thread.
/// Open and Grab may block (a device waits for the next exposure).
/// </summary>
internal interface IFrameGrabber : IDisposable
{
    /// <summary>The source and, once open, what it delivers (size, rate, format, backend).</summary>
    string Description { get; }

    /// <summary>A recording (file or directory): it can end, loop and be paced; it does not heal by reconnecting.</summary>
    bool IsRecording { get; }

    /// <summary>The source's frame rate, or 0 when unknown.</summary>
    double FrameRate { get; }

    /// <summary>Opens (or reopens from the start); throws <see cref="CameraException"/> naming the source and the reason.</summary>
    void Open();

    /// <summary>Reads the next frame into <paramref name="destination"/> (resized as needed). On Failed, <paramref name="error"/> says why.</summary>
    GrabResult Grab(Frame destination, out string? error);

    /// <summary>Releases the source; <see cref="Open"/> may be called again.</summary>
    void Close();
}
