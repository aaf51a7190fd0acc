using System.Runtime.InteropServices;
using RobotCtl.Core.Vision;

namespace RobotCtl.Vision.Cameras;

/// <summary>
/// Notices a stream that keeps delivering the same image: a 64-bit hash of a subsample of each frame, and a full
/// comparison only when the hashes agree, so a live stream costs about a thousand word reads per frame.
/// </summary>
internal sealed class FrozenStreamDetector(int threshold)
{
    private const int Samples = 1024;
    private int _identicalRun;
    private ulong _previousHash;

    /// <summary>Frames in a row identical to their predecessor, plus one (the first of the run).</summary>
    public int RunLength => _identicalRun + 1;

    public bool IsFrozen => threshold > 0 && RunLength >= threshold;

    /// <summary>
    /// Whether <paramref name="current"/> is the same image as <paramref name="previous"/> (the frame observed last,
    /// or null for the first). Call once per frame, then <see cref="Observe"/> with the answer.
    /// </summary>
    public bool IsSameImage(Frame current, Frame? previous)
    {
        var hash = SampleHash(current.Pixels);
        var same = previous is not null && hash == _previousHash &&
                   current.Width == previous.Width && current.Height == previous.Height &&
                   current.Pixels.AsSpan().SequenceEqual(previous.Pixels);
        _previousHash = hash;
        return same;
    }

    public void Observe(bool identicalToPrevious) => _identicalRun = identicalToPrevious ? _identicalRun + 1 : 0;

    /// <summary>FNV-1a over about <see cref="Samples"/> 64-bit words spread evenly over the image.</summary>
    internal static ulong SampleHash(ReadOnlySpan<byte> pixels)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(pixels);
        var step = Math.Max(1, words.Length / Samples);
        var hash = 14695981039346656037UL;
        for (var i = 0; i < words.Length; i += step) hash = (hash ^ words[i]) * 1099511628211UL;
        for (var i = words.Length * 8; i < pixels.Length; i++) hash = (hash ^ pixels[i]) * 1099511628211UL;
        return hash;
    }
}
