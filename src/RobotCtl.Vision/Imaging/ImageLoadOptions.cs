namespace RobotCtl.Vision.Imaging;

/// <summary>Limits for loading images.</summary>
public sealed record ImageLoadOptions
{
    /// <summary>Largest image accepted, in pixels (default 50 MP). Checked from the header before decoding where possible.</summary>
    public long MaxPixels { get; init; } = 50_000_000;

    public static ImageLoadOptions Default { get; } = new();
}
