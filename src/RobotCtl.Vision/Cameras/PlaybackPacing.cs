namespace RobotCtl.Vision.Cameras;

/// <summary>How recordings (video files, image directories) are played back.</summary>
public enum PlaybackPacing
{
    /// <summary>At the recording's frame rate (the file's fps, or <see cref="CameraRequest.Fps"/> when given).</summary>
    SourceRate,
    /// <summary>As fast as frames decode (each new frame replaces the latest).</summary>
    AsFastAsPossible,
    /// <summary>The next frame is read only after the current one has been read by <c>ReadLatest</c>: every frame, in order (offline runs, tests).</summary>
    Lockstep,
}
