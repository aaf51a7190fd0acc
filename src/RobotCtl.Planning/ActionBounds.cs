using RobotCtl.Core.Arm;

namespace RobotCtl.Planning;

/// <summary>
/// The largest absolute per-step action on each dimension of the model's action frame, in physical units.
/// The planner turns these into bounds in the normalised space it searches, so it never scores a candidate
/// the arm may not execute.
/// </summary>
public sealed class ActionBounds
{
    public ActionBounds(float[] maxStep)
    {
        ArgumentNullException.ThrowIfNull(maxStep);
        for (var i = 0; i < maxStep.Length; i++)
            if (!(maxStep[i] >= 0)) throw new ArgumentException($"ActionBounds.MaxStep[{i}]: expected a value >= 0 (or +infinity), found {maxStep[i]}");
        MaxStep = maxStep;
    }

    public float[] MaxStep { get; }

    /// <summary>No limit on any of <paramref name="dim"/> dimensions (LeWM plans without clipping).</summary>
    public static ActionBounds Unbounded(int dim) => new(Enumerable.Repeat(float.PositiveInfinity, dim).ToArray());

    /// <summary>
    /// The rig's per-step limits (robot base frame) expressed in the model's action frame through the calibration's
    /// mapping: robot axis i = Sign[i] * Scale[i] * model axis AxisOrder[i], so model axis AxisOrder[i] may move at
    /// most MaxStep[i] / Scale[i].
    /// </summary>
    public static ActionBounds FromLimits(SafetyLimits limits, ActionMapping? mapping = null)
    {
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        mapping ??= ActionMapping.Identity;
        mapping.Validate();
        var model = new float[EeCommand.Dim];
        for (var i = 0; i < EeCommand.Dim; i++) model[mapping.AxisOrder[i]] = limits.MaxStep[i] / mapping.Scale[i];
        return new ActionBounds(model);
    }
}
