using RobotCtl.Core.Vision;

namespace RobotCtl.Episodes;

/// <summary>Stores the BGR pixels unchanged (format "raw-bgr"): lossless, ~150 KB per 224x224 frame.</summary>
public sealed class RawBgrFrameEncoder : IFrameEncoder
{
    public const string FormatName = "raw-bgr";

    public string Format => FormatName;

    public int Encode(Frame frame, Span<byte> destination)
    {
        var size = frame.Width * frame.Height * 3;
        if (destination.Length < size) return -1;
        frame.Pixels.AsSpan(0, size).CopyTo(destination);
        return size;
    }
}
