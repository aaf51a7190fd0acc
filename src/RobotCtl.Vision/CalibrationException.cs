namespace RobotCtl.Vision;

/// <summary>Camera calibration could not be computed or read (too few boards, bad file, ...).</summary>
public sealed class CalibrationException(string message, Exception? inner = null) : VisionException(message, inner);
