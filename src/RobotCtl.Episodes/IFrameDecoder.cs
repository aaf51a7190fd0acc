using RobotCtl.Core.Vision;

namespace RobotCtl.Episodes;

/// <summary>
/// Decompresses a stored frame (the counterpart of <see cref="IFrameEncoder"/>) for exporters. The host supplies the
/// JPEG/PNG implementation (OpenCV, from Vision); "raw-bgr" frames need no decoder.
/// </summary>
public interface IFrameDecoder
{
    /// <summary>
    /// Decodes <paramref name="data"/>, stored as <paramref name="format"/> ("jpeg" or "png"), into
    /// <paramref name="destination"/> as 8-bit BGR, resizing the frame's buffer to the image's size. Throws with a
    /// message that says what is wrong with the data.
    /// </summary>
    void Decode(string format, ReadOnlySpan<byte> data, Frame destination);
}
