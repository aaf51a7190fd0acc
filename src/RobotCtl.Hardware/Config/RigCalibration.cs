using RobotCtl.Core.Arm;

namespace RobotCtl.Hardware;

/// <summary>
/// A rig's arm calibration: calibration/&lt;rig&gt;/action.json (model action frame -> robot base frame, Core's
/// <see cref="ActionMapping"/>) and calibration/&lt;rig&gt;/limits.json (<see cref="SafetyLimits"/>).
/// </summary>
public sealed record RigCalibration(ActionMapping Mapping, SafetyLimits Limits)
{
    public const string ActionFile = "action.json";
    public const string LimitsFile = "limits.json";

    /// <summary>Loads both files from <paramref name="rigDirectory"/>; <see cref="ConfigException"/> names file and field on error.</summary>
    public static RigCalibration Load(string rigDirectory)
    {
        if (!Directory.Exists(rigDirectory)) throw new ConfigException($"{rigDirectory}: calibration directory not found (expected {ActionFile} and {LimitsFile} in it)");
        return new RigCalibration(LoadAction(Path.Combine(rigDirectory, ActionFile)), LoadLimits(Path.Combine(rigDirectory, LimitsFile)));
    }

    public static ActionMapping LoadAction(string file)
    {
        var (doc, json) = JsonConfig.Open(file);
        using (doc)
        {
            json.RejectUnknown("axisOrder", "sign", "scale");
            var order = json.Numbers("axisOrder", EeCommand.Dim);
            if (order is not null && order.Any(v => v != Math.Floor(v))) throw json.Error("axisOrder", "integers (a permutation of 0..6)", string.Join(", ", order));
            var mapping = new ActionMapping
            {
                AxisOrder = order?.Select(v => (int)v).ToArray() ?? ActionMapping.Identity.AxisOrder,
                Sign = json.Numbers("sign", EeCommand.Dim)?.Select(v => (float)v).ToArray() ?? ActionMapping.Identity.Sign,
                Scale = json.Numbers("scale", EeCommand.Dim)?.Select(v => (float)v).ToArray() ?? ActionMapping.Identity.Scale,
            };
            try { mapping.Validate(); }
            catch (ArgumentException e) { throw new ConfigException($"{file}: {e.Message}"); }
            return mapping;
        }
    }

    /// <summary>
    /// Loads limits.json and checks every value against <see cref="LimitRanges"/> before use; a refusal names the
    /// key, the expected range and the value found.
    /// </summary>
    public static SafetyLimits LoadLimits(string file)
    {
        var (doc, json) = JsonConfig.Open(file);
        using (doc)
        {
            json.RejectUnknown("maxStep", "workspaceMin", "workspaceMax", "maxRateHz", "commandWatchdogMs", "maxStateAgeMs");
            var defaults = new SafetyLimits { MaxStep = [], WorkspaceMin = [], WorkspaceMax = [] };

            var step = json.RequiredNumbers("maxStep", EeCommand.Dim);
            for (var i = 0; i < step.Length; i++)
                if (LimitRanges.CheckStep(i, step[i]) is { } expected) throw json.Error($"maxStep[{i}]", expected, LimitRanges.Show(step[i]));

            var min = json.RequiredNumbers("workspaceMin", 3);
            var max = json.RequiredNumbers("workspaceMax", 3);
            for (var i = 0; i < 3; i++)
            {
                const double e = LimitRanges.MaxWorkspaceExtent;
                if (LimitRanges.CheckRange(min[i], -e, e) is { } x) throw json.Error($"workspaceMin[{i}]", x + " (m)", LimitRanges.Show(min[i]));
                if (LimitRanges.CheckRange(max[i], -e, e) is { } y) throw json.Error($"workspaceMax[{i}]", y + " (m)", LimitRanges.Show(max[i]));
                if (!(min[i] < max[i])) throw json.Error($"workspaceMax[{i}]", $"a number > workspaceMin[{i}] = {LimitRanges.Show(min[i])}", LimitRanges.Show(max[i]));
            }

            // Ranges are checked on the raw numbers: TimeSpan.FromMilliseconds throws on huge values.
            var rate = Checked(json, "maxRateHz", defaults.MaxRateHz, 0, LimitRanges.MaxRateHz, minExclusive: true);
            var watchdogMs = Checked(json, "commandWatchdogMs", defaults.CommandWatchdog.TotalMilliseconds, LimitRanges.MinWatchdogMs, LimitRanges.MaxWatchdogMs);
            var stateAgeMs = Checked(json, "maxStateAgeMs", defaults.MaxStateAge.TotalMilliseconds, LimitRanges.MinStateAgeMs, LimitRanges.MaxStateAgeMs);

            var limits = new SafetyLimits
            {
                MaxStep = step.Select(v => (float)v).ToArray(),
                WorkspaceMin = min,
                WorkspaceMax = max,
                MaxRateHz = rate,
                CommandWatchdog = TimeSpan.FromMilliseconds(watchdogMs),
                MaxStateAge = TimeSpan.FromMilliseconds(stateAgeMs),
            };
            try { limits.Validate(); } // Core's own checks, a backstop behind the ranges above
            catch (ArgumentException e) { throw new ConfigException($"{file}: {e.Message}"); }
            return limits;
        }
    }

    private static double Checked(JsonConfig json, string field, double fallback, double min, double max, bool minExclusive = false)
    {
        var value = json.Number(field) ?? fallback;
        if (LimitRanges.CheckRange(value, min, max, minExclusive) is { } expected) throw json.Error(field, expected, LimitRanges.Show(value));
        return value;
    }
}
