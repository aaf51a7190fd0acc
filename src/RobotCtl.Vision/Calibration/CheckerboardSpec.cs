using System.Globalization;

namespace RobotCtl.Vision.Calibration;

/// <summary>A checkerboard target: inner corners per row (Cols) and per column (Rows), square edge in millimetres.</summary>
public sealed record CheckerboardSpec(int Cols, int Rows, double SquareMm)
{
    public int CornerCount => Cols * Rows;

    /// <summary>Parses "COLSxROWS" (inner corners, e.g. "9x6") with the square size in millimetres.</summary>
    public static CheckerboardSpec Parse(string board, double squareMm)
    {
        ArgumentNullException.ThrowIfNull(board);
        var parts = board.Split('x', 'X');
        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var cols) ||
            !int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var rows))
            throw new FormatException($"board: expected COLSxROWS inner corners (e.g. 9x6), found '{board}'");
        var spec = new CheckerboardSpec(cols, rows, squareMm);
        spec.Validate();
        return spec;
    }

    public void Validate()
    {
        if (Cols < 2 || Rows < 2) throw new FormatException($"board: expected at least 2x2 inner corners, found {Cols}x{Rows}");
        if (!(SquareMm > 0) || !double.IsFinite(SquareMm)) throw new FormatException($"square size: expected a positive length in mm, found {SquareMm}");
    }
}
