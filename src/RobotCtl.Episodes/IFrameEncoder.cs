using RobotCtl.Core.Vision;

namespace RobotCtl.Episodes;

/// <summary>
/// Compresses a camera frame for the episode file. Called on the recorder task only, never on the control loop.
/// The host supplies the JPEG implementation (OpenCV, from Vision); <see cref="RawBgrFrameEncoder"/> stores pixels as they are.
/// </summary>
public interface IFrameEncoder
{
    /// <summary>Stored in each frame row's format column and used by exporters: "jpeg", "png" or "raw-bgr".</summary>
    string Format { get; }

    /// <summary>
    /// Encodes <paramref name="frame"/> into <paramref name="destination"/> and returns the number of bytes written,
    /// or -1 when <paramref name="destination"/> is too small (the recorder then retries with a larger buffer).
    /// </summary>
    int Encode(Frame frame, Span<byte> destination);
}
