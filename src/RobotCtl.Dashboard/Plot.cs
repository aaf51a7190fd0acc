using RobotCtl.Core.Vision;

namespace RobotCtl.Dashboard;

/// <summary>
/// A minimal raster plot for the summary PNG: stacked panels of one series each over the steps, axes, min/max labels
/// and a title in a built-in 5x7 font. No drawing library is needed for this much.
/// </summary>
internal sealed class Plot
{
    private const int Scale = 2; // font pixels per glyph pixel

    public Plot(int width, int height)
    {
        Frame = new Frame(width, height);
        Frame.Pixels.AsSpan().Fill(255);
    }

    public Frame Frame { get; }

    /// <param name="color">R, G, B.</param>
    /// <param name="first">The first step on the x axis (shared by the panels, so they line up).</param>
    public void Panel(int index, int count, string title, IReadOnlyList<(long Step, double? Value)> series, (int R, int G, int B) color, long first, long last)
    {
        var panelHeight = Frame.Height / count;
        var top = index * panelHeight;
        const int left = 110, right = 20;
        int plotTop = top + 34, plotBottom = top + panelHeight - 28;
        Text(left, top + 10, title, (30, 30, 30));
        var finite = series.Where(p => p.Value is { } v && double.IsFinite(v)).ToList();
        Line(left, plotBottom, Frame.Width - right, plotBottom, (120, 120, 120));
        Line(left, plotTop, left, plotBottom, (120, 120, 120));
        if (finite.Count == 0)
        {
            Text(left + 10, (plotTop + plotBottom) / 2, "NO DATA", (150, 150, 150));
            return;
        }
        double lo = finite.Min(p => p.Value!.Value), hi = finite.Max(p => p.Value!.Value);
        if (hi == lo) { hi += 1e-6; lo -= 1e-6; }
        var span = Math.Max(1, last - first);
        int X(long step) => left + (int)Math.Round((step - first) * (double)(Frame.Width - left - right) / span);
        int Y(double v) => plotBottom - (int)Math.Round((v - lo) * (plotBottom - plotTop) / (hi - lo));
        Text(4, plotTop, Number(hi), (80, 80, 80));
        Text(4, plotBottom - 7 * Scale, Number(lo), (80, 80, 80));
        Text(left, plotBottom + 6, first.ToString(System.Globalization.CultureInfo.InvariantCulture), (80, 80, 80));
        var lastText = "STEP " + last.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Text(Frame.Width - right - lastText.Length * 6 * Scale, plotBottom + 6, lastText, (80, 80, 80));
        (int X, int Y)? previous = null;
        foreach (var (step, value) in series)
        {
            if (value is not { } v || !double.IsFinite(v)) { previous = null; continue; }
            var point = (X(step), Y(v));
            if (previous is { } p) Line(p.X, p.Y, point.Item1, point.Item2, color);
            else Dot(point.Item1, point.Item2, color);
            previous = point;
        }
    }

    private static string Number(double v)
    {
        var a = Math.Abs(v);
        return (a != 0 && (a < 1e-3 || a >= 1e5) ? v.ToString("0.00E+0", System.Globalization.CultureInfo.InvariantCulture)
            : v.ToString(a < 1 ? "0.0000" : a < 100 ? "0.00" : "0", System.Globalization.CultureInfo.InvariantCulture)).ToUpperInvariant();
    }

    private void Set(int x, int y, (int R, int G, int B) c)
    {
        if (x < 0 || y < 0 || x >= Frame.Width || y >= Frame.Height) return;
        var i = (y * Frame.Width + x) * 3;
        Frame.Pixels[i] = (byte)c.B;
        Frame.Pixels[i + 1] = (byte)c.G;
        Frame.Pixels[i + 2] = (byte)c.R;
    }

    private void Dot(int x, int y, (int R, int G, int B) c)
    {
        for (var dy = -1; dy <= 1; dy++) for (var dx = -1; dx <= 1; dx++) Set(x + dx, y + dy, c);
    }

    /// <summary>Bresenham, two pixels thick.</summary>
    private void Line(int x0, int y0, int x1, int y1, (int R, int G, int B) c)
    {
        int dx = Math.Abs(x1 - x0), sx = x0 < x1 ? 1 : -1, dy = -Math.Abs(y1 - y0), sy = y0 < y1 ? 1 : -1, err = dx + dy;
        while (true)
        {
            Set(x0, y0, c);
            Set(x0, y0 + 1, c);
            if (x0 == x1 && y0 == y1) return;
            var e2 = 2 * err;
            if (e2 >= dy) { err += dy; x0 += sx; }
            if (e2 <= dx) { err += dx; y0 += sy; }
        }
    }

    private void Text(int x, int y, string text, (int R, int G, int B) c)
    {
        foreach (var ch in text)
        {
            if (Glyphs.TryGetValue(ch, out var rows))
                for (var r = 0; r < 7; r++)
                for (var col = 0; col < 5; col++)
                    if ((rows[r] >> (4 - col) & 1) != 0)
                        for (var sy = 0; sy < Scale; sy++) for (var sx = 0; sx < Scale; sx++) Set(x + col * Scale + sx, y + r * Scale + sy, c);
            x += 6 * Scale;
        }
    }

    // 5x7 glyphs, one 5-bit row each (most significant bit leftmost): what the plot's labels use.
    private static readonly Dictionary<char, int[]> Glyphs = new()
    {
        ['0'] = [14, 17, 19, 21, 25, 17, 14], ['1'] = [4, 12, 4, 4, 4, 4, 14], ['2'] = [14, 17, 1, 2, 4, 8, 31],
        ['3'] = [31, 2, 4, 2, 1, 17, 14], ['4'] = [2, 6, 10, 18, 31, 2, 2], ['5'] = [31, 16, 30, 1, 1, 17, 14],
        ['6'] = [6, 8, 16, 30, 17, 17, 14], ['7'] = [31, 1, 2, 4, 8, 8, 8], ['8'] = [14, 17, 17, 14, 17, 17, 14],
        ['9'] = [14, 17, 17, 15, 1, 2, 12], ['.'] = [0, 0, 0, 0, 0, 12, 12], ['-'] = [0, 0, 0, 31, 0, 0, 0],
        ['+'] = [0, 4, 4, 31, 4, 4, 0], [' '] = [0, 0, 0, 0, 0, 0, 0],
        ['A'] = [14, 17, 17, 31, 17, 17, 17], ['C'] = [14, 17, 16, 16, 16, 17, 14], ['D'] = [28, 18, 17, 17, 17, 18, 28],
        ['E'] = [31, 16, 16, 30, 16, 16, 31], ['F'] = [31, 16, 16, 30, 16, 16, 16], ['G'] = [14, 17, 16, 23, 17, 17, 15],
        ['I'] = [14, 4, 4, 4, 4, 4, 14], ['L'] = [16, 16, 16, 16, 16, 16, 31], ['M'] = [17, 27, 21, 21, 17, 17, 17],
        ['N'] = [17, 17, 25, 21, 19, 17, 17], ['O'] = [14, 17, 17, 17, 17, 17, 14], ['P'] = [30, 17, 17, 30, 16, 16, 16],
        ['R'] = [30, 17, 17, 30, 20, 18, 17], ['S'] = [15, 16, 16, 14, 1, 1, 30], ['T'] = [31, 4, 4, 4, 4, 4, 4],
        ['U'] = [17, 17, 17, 17, 17, 17, 14],
    };
}
