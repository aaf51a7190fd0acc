using RobotCtl.Vision.Imaging;

namespace RobotCtl.Vision.Cameras;

/// <summary>
/// What to ask of a camera, and how its capture thread behaves. Width, height, fps and FOURCC are requests: a
/// device may choose the nearest mode it has (the camera's Description reports what it delivers); recordings ignore
/// the size and FOURCC.
/// </summary>
public sealed record CameraRequest
{
    public int? Width { get; init; }
    public int? Height { get; init; }
    public double? Fps { get; init; }

    /// <summary>Pixel format to request from a device, e.g. "MJPG" or "YUYV".</summary>
    public string? FourCC { get; init; }

    /// <summary>Recordings: start again at the end (true) or end the stream (false).</summary>
    public bool Loop { get; init; }

    public PlaybackPacing Pacing { get; init; } = PlaybackPacing.SourceRate;

    /// <summary>Consecutive identical frames after which the stream counts as frozen (0 disables the check).</summary>
    public int FrozenFrameCount { get; init; } = 30;

    /// <summary>Live sources: first wait before reopening after a read failure; doubles per failed attempt up to the maximum.</summary>
    public TimeSpan ReconnectInitialDelay { get; init; } = TimeSpan.FromMilliseconds(250);
    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Network sources (FFmpeg): limits for opening and for each read.</summary>
    public TimeSpan OpenTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Image directories: frame rate when <see cref="Fps"/> is not given.</summary>
    public const double DefaultDirectoryFps = 30;

    /// <summary>Limits for images read from a directory source.</summary>
    public ImageLoadOptions ImageLoad { get; init; } = ImageLoadOptions.Default;

    public static CameraRequest Default { get; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (Width is <= 0 || Height is <= 0) throw new ArgumentException($"camera size must be positive, found {Width}x{Height}");
        if (Fps is { } fps && (!(fps > 0) || !double.IsFinite(fps))) throw new ArgumentException($"camera fps must be positive, found {fps}");
        if (FourCC is { } f && (f.Length != 4 || f.Any(c => c < 32 || c > 126)))
            throw new ArgumentException($"FOURCC must be 4 printable characters (e.g. MJPG, YUYV), found '{f}'");
        if (FrozenFrameCount < 0) throw new ArgumentException($"FrozenFrameCount must be 0 (off) or more, found {FrozenFrameCount}");
        if (ReconnectInitialDelay <= TimeSpan.Zero || ReconnectMaxDelay < ReconnectInitialDelay)
            throw new ArgumentException($"reconnect delays must satisfy 0 < initial <= max, found {ReconnectInitialDelay} and {ReconnectMaxDelay}");
        if (OpenTimeout <= TimeSpan.Zero || ReadTimeout <= TimeSpan.Zero) throw new ArgumentException("camera timeouts must be positive");
        if (!Enum.IsDefined(Pacing)) throw new ArgumentException($"unknown pacing {Pacing}");
    }
}
