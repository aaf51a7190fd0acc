using System.Globalization;

namespace RobotCtl.Vision.Imaging;

/// <summary>A rectangle of the (undistorted) camera image, in pixels: what the model sees of the scene.</summary>
public readonly record struct CropRegion(int X, int Y, int Width, int Height)
{
    /// <summary>Parses "x,y,width,height" (pixels).</summary>
    public static CropRegion Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new int[4];
        if (parts.Length != 4 || parts.Where((p, i) => !int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out values[i])).Any())
            throw new FormatException($"crop: expected x,y,width,height in pixels, found '{text}'");
        var crop = new CropRegion(values[0], values[1], values[2], values[3]);
        if (crop.X < 0 || crop.Y < 0 || crop.Width <= 0 || crop.Height <= 0)
            throw new FormatException($"crop: expected x,y >= 0 and width,height > 0, found '{text}'");
        return crop;
    }

    /// <summary>Throws when the region does not lie inside a width x height image.</summary>
    public void EnsureInside(int width, int height)
    {
        if (X < 0 || Y < 0 || Width <= 0 || Height <= 0 || (long)X + Width > width || (long)Y + Height > height)
            throw new ArgumentException($"crop {this} does not lie inside the {width}x{height} frame");
    }

    public override string ToString() => $"{X},{Y},{Width},{Height}";
}
