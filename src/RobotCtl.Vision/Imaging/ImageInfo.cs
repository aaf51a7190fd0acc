namespace RobotCtl.Vision.Imaging;

/// <summary>What a loaded image was before it became an 8-bit BGR frame.</summary>
public sealed record ImageInfo(int Width, int Height, int SourceChannels, int SourceBitDepth)
{
    /// <summary>The conversion applied, in words (for logs and sidecars).</summary>
    public string Conversion => (SourceChannels, SourceBitDepth) switch
    {
        (3, 8) => "none",
        _ => string.Join(", ", new[]
        {
            SourceBitDepth == 16 ? "16-bit scaled to 8-bit (value / 257)" : null,
            SourceChannels == 1 ? "gray replicated to BGR" : SourceChannels == 4 ? "alpha dropped (not composited)" : null,
        }.Where(s => s is not null)),
    };
}
