using RobotCtl.Core.Vision;
using RobotCtl.Episodes;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Runtime.Composition;

/// <summary>Episode frame compression through OpenCV: PNG (lossless, the default for the sim) or JPEG.</summary>
public sealed class VisionFrameEncoder(string format, int jpegQuality) : IFrameEncoder
{
    public string Format { get; } = format;

    public int Encode(Frame frame, Span<byte> destination) => Format == "png"
        ? ImageIo.EncodePng(frame, destination)
        : ImageIo.EncodeJpeg(frame, destination, jpegQuality);
}
