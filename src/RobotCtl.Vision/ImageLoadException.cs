namespace RobotCtl.Vision;

/// <summary>An image file or buffer that cannot be loaded: names the file and says why.</summary>
public sealed class ImageLoadException(string source, string reason, Exception? inner = null)
    : VisionException($"cannot load image '{source}': {reason}", inner)
{
    public string ImageSource { get; } = source;
    public string Reason { get; } = reason;
}
