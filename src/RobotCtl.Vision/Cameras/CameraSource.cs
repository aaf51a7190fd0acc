using System.Globalization;

namespace RobotCtl.Vision.Cameras;

/// <summary>
/// Where frames come from, parsed from the one string used in configuration and on the command line:
/// <list type="bullet">
/// <item><c>/dev/video0</c>, <c>0</c>, <c>v4l2:/dev/video2</c>, <c>v4l2:1</c>: a V4L2 device</item>
/// <item><c>file:clip.avi</c> or a path that is not a directory: a video file</item>
/// <item><c>dir:frames/</c> or an existing directory: the images in it, in name order</item>
/// <item><c>rtsp://host:554/stream</c> (or rtsps://): an RTSP stream</item>
/// <item><c>gst:videotestsrc ! videoconvert ! appsink</c>: a GStreamer pipeline</item>
/// <item><c>sim</c>: the simulated workcell (the host composes it)</item>
/// </list>
/// </summary>
public sealed record CameraSource(CameraSourceKind Kind, string Location)
{
    public const string Forms =
        "/dev/videoN, N or v4l2:<device> (V4L2), file:<path> or a video file path, dir:<path> or a directory of images, " +
        "rtsp://host/path, gst:<pipeline ending in appsink>, or sim";

    /// <summary>The device index for <c>Device</c> sources given as a number, else null.</summary>
    public int? DeviceIndex =>
        Kind == CameraSourceKind.Device && int.TryParse(Location, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : null;

    /// <summary>Parses a source string; throws <see cref="FormatException"/> saying what was expected and what was found.</summary>
    public static CameraSource Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var s = text.Trim();
        if (s.Length == 0) throw new FormatException($"camera source is empty; expected {Forms}");
        if (s.Equals("sim", StringComparison.OrdinalIgnoreCase)) return new CameraSource(CameraSourceKind.Sim, "sim");

        if (TryStrip(s, "v4l2:", out var device))
        {
            if (IsIndex(device) || device.StartsWith("/dev/", StringComparison.Ordinal)) return new CameraSource(CameraSourceKind.Device, device);
            throw new FormatException($"camera source '{text}': a V4L2 device is /dev/videoN or an index, found '{device}'");
        }
        if (IsIndex(s) || s.StartsWith("/dev/", StringComparison.Ordinal)) return new CameraSource(CameraSourceKind.Device, s);
        if (s.Length > 0 && s[0] is '-' or '+' && int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            throw new FormatException($"camera source '{text}': a device index must be 0 or more");

        if (TryStrip(s, "gst:", out var pipeline))
        {
            if (pipeline.Length == 0) throw new FormatException($"camera source '{text}': the GStreamer pipeline is empty");
            if (!pipeline.Contains("appsink", StringComparison.Ordinal))
                throw new FormatException($"camera source '{text}': a GStreamer pipeline must end in appsink (OpenCV reads frames from it)");
            return new CameraSource(CameraSourceKind.GStreamer, pipeline);
        }
        if (TryStrip(s, "file:", out var file))
        {
            if (file.Length == 0) throw new FormatException($"camera source '{text}': the file path is empty");
            return new CameraSource(CameraSourceKind.VideoFile, file);
        }
        if (TryStrip(s, "dir:", out var dir))
        {
            if (dir.Length == 0) throw new FormatException($"camera source '{text}': the directory path is empty");
            return new CameraSource(CameraSourceKind.ImageDirectory, dir);
        }

        var scheme = s.IndexOf("://", StringComparison.Ordinal);
        if (scheme > 0)
        {
            var name = s[..scheme].ToLowerInvariant();
            if (name is not ("rtsp" or "rtsps"))
                throw new FormatException($"camera source '{text}': unsupported URL scheme '{name}' (expected rtsp:// or rtsps://; other streams can be opened as a gst: pipeline)");
            if (!Uri.TryCreate(s, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
                throw new FormatException($"camera source '{text}': not a valid RTSP URL (expected rtsp://host[:port]/path)");
            return new CameraSource(CameraSourceKind.Rtsp, s);
        }
        if (s.Contains(" ! ", StringComparison.Ordinal))
            throw new FormatException($"camera source '{text}': looks like a GStreamer pipeline; write it as gst:<pipeline>");
        return Directory.Exists(s) ? new CameraSource(CameraSourceKind.ImageDirectory, s) : new CameraSource(CameraSourceKind.VideoFile, s);
    }

    public override string ToString() => Kind switch
    {
        CameraSourceKind.Device => $"v4l2:{Location}",
        CameraSourceKind.VideoFile => $"file:{Location}",
        CameraSourceKind.ImageDirectory => $"dir:{Location}",
        CameraSourceKind.GStreamer => $"gst:{Location}",
        _ => Location,
    };

    private static bool IsIndex(string s) => s.Length is > 0 and < 6 && s.All(char.IsAsciiDigit);

    private static bool TryStrip(string s, string prefix, out string rest)
    {
        if (s.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            rest = s[prefix.Length..].Trim();
            return true;
        }
        rest = "";
        return false;
    }
}
