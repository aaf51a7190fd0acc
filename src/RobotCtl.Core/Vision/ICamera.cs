namespace RobotCtl.Core.Vision;

/// <summary>
/// A frame source with its own capture thread that keeps only the latest frame (LeRobot's read_latest).
/// Implementations: Vision's CaptureCamera over OpenCV sources (V4L2, file, directory, RTSP, GStreamer) and the
/// simulated workcell's renderer (Sim's SimCamera and SimSyncCamera). Replay reads an episode's frames directly, not
/// through a camera.
/// </summary>
public interface ICamera : IDisposable
{
    /// <summary>Human-readable source, e.g. "v4l2:/dev/video0 640x480@30".</summary>
    string Description { get; }

    /// <summary>Opens the source and starts capturing; throws <see cref="CameraException"/> naming the source when it cannot.</summary>
    void Start();

    /// <summary>
    /// Copies the latest frame into <paramref name="destination"/> if it is no older than <paramref name="maxAge"/>
    /// and the stream is not frozen. Never blocks on the camera.
    /// </summary>
    FrameReadStatus ReadLatest(TimeSpan maxAge, Frame destination);

    /// <summary>Frames captured so far.</summary>
    long FramesCaptured { get; }
}
