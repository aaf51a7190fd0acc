using RobotCtl.Core.Vision;
using RobotCtl.Episodes;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Runtime.Composition;

/// <summary>Decodes stored JPEG/PNG frames through OpenCV (ImageIo's rules and limits), for the exporters.</summary>
public sealed class VisionFrameDecoder : IFrameDecoder
{
    public void Decode(string format, ReadOnlySpan<byte> data, Frame destination) => ImageIo.DecodeInto(data, destination, $"{format} frame");
}
