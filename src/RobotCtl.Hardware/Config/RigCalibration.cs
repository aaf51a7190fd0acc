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

    public static SafetyLimits LoadLimits(string file)
    {
        var (doc, json) = JsonConfig.Open(file);
        using (doc)
        {
            json.RejectUnknown("maxStep", "workspaceMin", "workspaceMax", "maxRateHz", "commandWatchdogMs", "maxStateAgeMs");
            var defaults = new SafetyLimits { MaxStep = [], WorkspaceMin = [], WorkspaceMax = [] };
            var limits = new SafetyLimits
            {
                MaxStep = json.RequiredNumbers("maxStep", EeCommand.Dim).Select(v => (float)v).ToArray(),
                WorkspaceMin = json.RequiredNumbers("workspaceMin", 3),
                WorkspaceMax = json.RequiredNumbers("workspaceMax", 3),
                MaxRateHz = json.Number("maxRateHz") ?? defaults.MaxRateHz,
                CommandWatchdog = json.Number("commandWatchdogMs") is { } w ? TimeSpan.FromMilliseconds(w) : defaults.CommandWatchdog,
                MaxStateAge = json.Number("maxStateAgeMs") is { } a ? TimeSpan.FromMilliseconds(a) : defaults.MaxStateAge,
            };
            if (!(limits.MaxStateAge > TimeSpan.Zero)) throw json.Error("maxStateAgeMs", "a number > 0", limits.MaxStateAge.TotalMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
            try { limits.Validate(); }
            catch (ArgumentException e) { throw new ConfigException($"{file}: {e.Message}"); }
            return limits;
        }
    }
}
