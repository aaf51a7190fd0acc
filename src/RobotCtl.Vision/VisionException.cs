namespace RobotCtl.Vision;

/// <summary>A failure inside the vision layer (OpenCV through OpenCvSharp), carrying OpenCV's own message.</summary>
public class VisionException(string message, Exception? inner = null) : Exception(message, inner);
