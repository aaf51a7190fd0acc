namespace RobotCtl.Vision.Cameras;

/// <summary>What a <see cref="CaptureCamera"/>'s capture thread is doing.</summary>
public enum CameraState { Created, Running, Reconnecting, Ended, Failed, Stopped }
