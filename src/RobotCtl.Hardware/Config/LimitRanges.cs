using System.Globalization;

namespace RobotCtl.Hardware;

/// <summary>
/// The ranges a rig's limits.json must fall in. Wide enough for any tabletop or industrial arm driven at a control
/// rate, narrow enough that a typo (a value in millimetres, an extra zero, a rate in microseconds) refuses to load
/// instead of quietly disabling a limit.
/// </summary>
public static class LimitRanges
{
    /// <summary>Largest per-step translation, metres (axes dx, dy, dz).</summary>
    public const double MaxTranslationStep = 0.2;
    /// <summary>Largest per-step rotation, radians (axes droll, dpitch, dyaw).</summary>
    public const double MaxRotationStep = 0.5;
    /// <summary>Largest per-step gripper closedness change.</summary>
    public const double MaxGripperStep = 1;
    /// <summary>Every workspace bound lies within +-this, metres, of the base.</summary>
    public const double MaxWorkspaceExtent = 5;
    public const double MaxRateHz = 1000;
    public const double MinWatchdogMs = 10, MaxWatchdogMs = 10_000;
    public const double MinStateAgeMs = 10, MaxStateAgeMs = 10_000;

    /// <summary>The upper bound of <c>maxStep[axis]</c> and what it measures.</summary>
    public static (double Max, string Unit) Step(int axis) => axis switch
    {
        < 3 => (MaxTranslationStep, "m"),
        < 6 => (MaxRotationStep, "rad"),
        _ => (MaxGripperStep, "closedness"),
    };

    /// <summary>Null when <paramref name="value"/> is a usable maxStep for <paramref name="axis"/>, else what was expected.</summary>
    public static string? CheckStep(int axis, double value)
    {
        var (max, unit) = Step(axis);
        // (float)value > 0 as well: the governor keeps float steps, and a denormal would become 0 (no motion ever).
        return double.IsFinite(value) && value > 0 && value <= max && (float)value > 0 ? null : $"a number in (0, {Show(max)}] ({unit} per step)";
    }

    /// <summary>Null when <paramref name="value"/> lies in [min, max] and is finite, else what was expected.</summary>
    public static string? CheckRange(double value, double min, double max, bool minExclusive = false) =>
        double.IsFinite(value) && (minExclusive ? value > min : value >= min) && value <= max
            ? null
            : $"a number in {(minExclusive ? "(" : "[")}{Show(min)}, {Show(max)}]";

    internal static string Show(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
