using System.Globalization;

namespace RobotCtl.Sim;

/// <summary>
/// The sim camera: image size, viewpoint and colours. Bind from configuration (section "Sim:Render") or parse
/// a view string (<see cref="Parse"/>), e.g. <c>size=224x224,view=oblique,elevation=55,distance=1.1,fov=50</c>.
/// </summary>
public sealed record SimRenderOptions
{
    public int Width { get; init; } = 224;
    public int Height { get; init; } = 224;

    public SimProjection Projection { get; init; } = SimProjection.TopDown;

    /// <summary>Oblique view: the camera's elevation above the table plane, degrees (90 looks straight down).</summary>
    public double ElevationDegrees { get; init; } = 55;

    /// <summary>Oblique view: distance from the camera to the table's centre, metres.</summary>
    public double Distance { get; init; } = 1.1;

    /// <summary>Oblique view: vertical field of view, degrees.</summary>
    public double FieldOfViewDegrees { get; init; } = 50;

    /// <summary>Wall thickness and height, metres (drawn only; the walls' inner faces are the table bounds).</summary>
    public double WallThickness { get; init; } = 0.02;
    public double WallHeight { get; init; } = 0.03;

    /// <summary>Spacing of the table's grid lines, metres (0: no grid).</summary>
    public double GridSpacing { get; init; } = 0.1;

    public SimColor TableColor { get; init; } = new(196, 178, 148);
    public SimColor WallColor { get; init; } = new(70, 78, 92);
    public SimColor FloorColor { get; init; } = new(34, 34, 38);
    public SimColor BlockColor { get; init; } = new(214, 48, 40);
    public SimColor BlockMarkColor { get; init; } = new(250, 220, 60);
    public SimColor EffectorColor { get; init; } = new(40, 110, 230);
    public SimColor FingerColor { get; init; } = new(16, 20, 28);
    public SimColor ShadowColor { get; init; } = new(96, 86, 72);

    public static SimRenderOptions Default { get; } = new();

    public void Validate()
    {
        if (Width is <= 0 or > 8192 || Height is <= 0 or > 8192)
            throw new ArgumentException($"Sim render size: expected 1..8192 pixels each way, found {Width}x{Height}");
        if (!Enum.IsDefined(Projection)) throw new ArgumentException($"Sim render Projection: expected TopDown or Oblique, found {Projection}");
        if (!(ElevationDegrees is > 5 and <= 90)) throw new ArgumentException($"Sim render ElevationDegrees: expected (5, 90], found {ElevationDegrees}");
        if (!(Distance > 0) || !double.IsFinite(Distance)) throw new ArgumentException($"Sim render Distance: expected a finite value > 0, found {Distance}");
        if (!(FieldOfViewDegrees is > 1 and < 170)) throw new ArgumentException($"Sim render FieldOfViewDegrees: expected (1, 170), found {FieldOfViewDegrees}");
        if (!(WallThickness >= 0) || !double.IsFinite(WallThickness) || !(WallHeight >= 0) || !double.IsFinite(WallHeight))
            throw new ArgumentException($"Sim render walls: expected finite thickness and height >= 0, found {WallThickness}, {WallHeight}");
        if (!(GridSpacing >= 0) || !double.IsFinite(GridSpacing)) throw new ArgumentException($"Sim render GridSpacing: expected a finite value >= 0, found {GridSpacing}");
    }

    /// <summary>
    /// Parses a view string: comma-separated <c>key=value</c> pairs over <see cref="Default"/>. Keys: <c>size=WxH</c>,
    /// <c>view=topdown|oblique</c>, <c>elevation=deg</c>, <c>distance=m</c>, <c>fov=deg</c>, <c>grid=m</c>,
    /// and colours <c>table|wall|floor|block|mark|effector|finger|shadow=#rrggbb</c>. Throws <see cref="FormatException"/>.
    /// </summary>
    public static SimRenderOptions Parse(string text, SimRenderOptions? over = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var o = over ?? Default;
        foreach (var pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0) throw new FormatException($"Sim view '{text}': expected key=value, found '{pair}'");
            var key = pair[..eq].Trim().ToLowerInvariant();
            var value = pair[(eq + 1)..].Trim();
            o = key switch
            {
                "size" => ParseSize(o, value),
                "view" => o with
                {
                    Projection = value.ToLowerInvariant() switch
                    {
                        "topdown" or "top-down" or "top" => SimProjection.TopDown,
                        "oblique" => SimProjection.Oblique,
                        _ => throw new FormatException($"Sim view key 'view': expected topdown or oblique, found '{value}'"),
                    },
                },
                "elevation" => o with { ElevationDegrees = Number(key, value) },
                "distance" => o with { Distance = Number(key, value) },
                "fov" => o with { FieldOfViewDegrees = Number(key, value) },
                "grid" => o with { GridSpacing = Number(key, value) },
                "table" => o with { TableColor = SimColor.Parse(value) },
                "wall" => o with { WallColor = SimColor.Parse(value) },
                "floor" => o with { FloorColor = SimColor.Parse(value) },
                "block" => o with { BlockColor = SimColor.Parse(value) },
                "mark" => o with { BlockMarkColor = SimColor.Parse(value) },
                "effector" => o with { EffectorColor = SimColor.Parse(value) },
                "finger" => o with { FingerColor = SimColor.Parse(value) },
                "shadow" => o with { ShadowColor = SimColor.Parse(value) },
                _ => throw new FormatException(
                    $"Sim view '{text}': unknown key '{key}' (expected size, view, elevation, distance, fov, grid, table, wall, floor, block, mark, effector, finger, shadow)"),
            };
        }
        try
        {
            o.Validate();
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"Sim view '{text}': {e.Message}", e);
        }
        return o;
    }

    private static SimRenderOptions ParseSize(SimRenderOptions o, string value)
    {
        var parts = value.Split('x', 'X');
        if (parts.Length == 2 &&
            int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var w) &&
            int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var h))
            return o with { Width = w, Height = h };
        throw new FormatException($"Sim view key 'size': expected WIDTHxHEIGHT, found '{value}'");
    }

    private static double Number(string key, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v
            : throw new FormatException($"Sim view key '{key}': expected a number, found '{value}'");
}
