namespace RobotCtl.Core.Vision;

public enum FrameReadStatus
{
    /// <summary>A fresh frame was copied out.</summary>
    Ok,
    /// <summary>No frame has been captured yet.</summary>
    NoFrame,
    /// <summary>The latest frame is older than the allowed age.</summary>
    Stale,
    /// <summary>The stream keeps delivering identical images (a frozen camera).</summary>
    Frozen,
    /// <summary>The source failed and is reconnecting, or is closed.</summary>
    Failed,
}
