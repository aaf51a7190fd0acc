using System.ComponentModel;
using System.Globalization;

namespace RobotCtl.Sim;

/// <summary>An sRGB colour (stored, not blended: the renderer writes it into BGR frames as is). Configuration binds it from "#rrggbb".</summary>
[TypeConverter(typeof(SimColorConverter))]
public readonly record struct SimColor(byte R, byte G, byte B)
{
    /// <summary>Parses "#rrggbb" or "rrggbb".</summary>
    public static SimColor Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var hex = text.StartsWith('#') ? text[1..] : text;
        if (hex.Length != 6 || !uint.TryParse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v))
            throw new FormatException($"Sim colour: expected #rrggbb, found '{text}'");
        return new SimColor((byte)(v >> 16), (byte)(v >> 8), (byte)v);
    }

    public override string ToString() => $"#{R:x2}{G:x2}{B:x2}";
}
