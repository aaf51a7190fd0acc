namespace RobotCtl.Vision;

/// <summary>A failure inside the vision layer (OpenCV through OpenCvSharp), carrying OpenCV's own message.</summary>
public class VisionException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>An image file or buffer that cannot be loaded: names the file and says why.</summary>
public sealed class ImageLoadException(string source, string reason, Exception? inner = null)
    : VisionException($"cannot load image '{source}': {reason}", inner)
{
    public string ImageSource { get; } = source;
    public string Reason { get; } = reason;
}

/// <summary>Camera calibration could not be computed or read (too few boards, bad file, ...).</summary>
public sealed class CalibrationException(string message, Exception? inner = null) : VisionException(message, inner);
