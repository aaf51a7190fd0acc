namespace RobotCtl.Vision.Cameras;

public enum CameraSourceKind
{
    /// <summary>A V4L2 device: a path such as /dev/video0, or an index.</summary>
    Device,
    /// <summary>A video file read by OpenCV's FFmpeg backend.</summary>
    VideoFile,
    /// <summary>A directory of still images, played in file-name order.</summary>
    ImageDirectory,
    /// <summary>An RTSP stream (rtsp:// or rtsps://) read by OpenCV's FFmpeg backend.</summary>
    Rtsp,
    /// <summary>A GStreamer pipeline ending in appsink.</summary>
    GStreamer,
    /// <summary>The simulated workcell's rendered view: composed by the host, not by this library.</summary>
    Sim,
}
