namespace RobotCtl.Core.Vision;

/// <summary>
/// A camera image: 8-bit BGR, interleaved, tightly packed rows (OpenCV's default layout), plus when and in what
/// order it was captured. Frames are reusable buffers: readers copy into a frame they own, so the hot path
/// allocates nothing once a frame of the right size exists.
/// </summary>
public sealed class Frame
{
    public Frame(int width, int height)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"frame size must be positive, found {width}x{height}");
        Width = width;
        Height = height;
        Pixels = new byte[checked(width * height * 3)];
    }

    public int Width { get; private set; }
    public int Height { get; private set; }

    /// <summary>BGR bytes, row-major, Width*3 bytes per row.</summary>
    public byte[] Pixels { get; private set; }

    /// <summary>Monotonic capture time (<see cref="Timing.MonotonicClock"/> ticks).</summary>
    public long CaptureTicks { get; set; }

    /// <summary>Sequence number from the source, increasing by one per captured frame.</summary>
    public long Sequence { get; set; }

    public int Stride => Width * 3;

    /// <summary>Resizes the buffer if needed (allocates only when the size changes).</summary>
    public void EnsureSize(int width, int height)
    {
        if (width == Width && height == Height) return;
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"frame size must be positive, found {width}x{height}");
        Width = width;
        Height = height;
        Pixels = new byte[checked(width * height * 3)];
    }

    public void CopyTo(Frame destination)
    {
        destination.EnsureSize(Width, Height);
        Pixels.AsSpan().CopyTo(destination.Pixels);
        destination.CaptureTicks = CaptureTicks;
        destination.Sequence = Sequence;
    }
}
