using RobotCtl.Core.Arm;
using RobotCtl.Core.WorldModel;
using RobotCtl.Planning.Solvers;

namespace RobotCtl.Planning.Rollout;

/// <summary>
/// Converts between the normalised action space the solver searches ((a - mean) / std per low-level dimension)
/// and physical actions, and builds the search box: searched dimensions limited to the physical per-step bounds,
/// unsearched ones held at a physical zero delta, the gripper dead-band as a dead zone.
/// </summary>
internal sealed class ActionCodec
{
    private readonly float[] _mean, _std, _max;
    private readonly bool[] _search;
    private readonly int _gripper; // -1: none

    public ActionCodec(WorldModelSpec spec, ActionBounds bounds, float gripperDeadband)
    {
        Dim = spec.ActionDim;
        Block = spec.ActionBlock;
        if (spec.ActionMean.Length != Dim || spec.ActionStd.Length != Dim || spec.ActionSearch.Length != Dim)
            throw new ArgumentException($"model '{spec.Name}': action mean/std/search need {Dim} values each, found {spec.ActionMean.Length}/{spec.ActionStd.Length}/{spec.ActionSearch.Length}");
        for (var i = 0; i < Dim; i++)
            if (!(spec.ActionStd[i] > 0) || !float.IsFinite(spec.ActionStd[i]) || !float.IsFinite(spec.ActionMean[i]))
                throw new ArgumentException($"model '{spec.Name}': action.std[{i}] must be finite and > 0 and action.mean[{i}] finite, found std {spec.ActionStd[i]}, mean {spec.ActionMean[i]}");
        if (bounds.MaxStep.Length != Dim)
            throw new ArgumentException($"action bounds: expected {Dim} per-step limits (model action dim), found {bounds.MaxStep.Length}");
        _mean = spec.ActionMean; _std = spec.ActionStd; _search = spec.ActionSearch; _max = bounds.MaxStep;
        _gripper = gripperDeadband > 0 && Dim == EeCommand.Dim && _search[Dim - 1] ? Dim - 1 : -1;
        Deadband = gripperDeadband;
    }

    public int Dim { get; }
    public int Block { get; }
    public int BlockSize => Dim * Block;
    public float Deadband { get; }

    /// <summary>Normalised value of a physical zero delta on dimension <paramref name="i"/>.</summary>
    public float Zero(int i) => -_mean[i] / _std[i];

    public SearchSpace CreateSearchSpace(int horizon)
    {
        var n = horizon * BlockSize;
        var lower = new float[n];
        var upper = new float[n];
        var zones = new List<DeadZone>();
        for (var v = 0; v < n; v++)
        {
            var i = v % Dim;
            if (_search[i])
            {
                lower[v] = (-_max[i] - _mean[i]) / _std[i];
                upper[v] = (_max[i] - _mean[i]) / _std[i];
            }
            else
            {
                lower[v] = upper[v] = Zero(i);
            }
            if (i == _gripper) zones.Add(new DeadZone(v, (-Deadband - _mean[i]) / _std[i], (Deadband - _mean[i]) / _std[i], Zero(i)));
        }
        return new SearchSpace(lower, upper, zones.ToArray());
    }

    /// <summary>
    /// Physical actions from normalised ones (any whole number of low-level actions). Re-applies the bounds,
    /// exact zeros on held dimensions and the dead-band in physical units, so float rounding in the
    /// normalise/de-normalise round trip can never step outside them.
    /// </summary>
    public void Denormalise(ReadOnlySpan<float> normalised, Span<float> physical)
    {
        for (var v = 0; v < normalised.Length; v++)
        {
            var i = v % Dim;
            if (!_search[i]) { physical[v] = 0f; continue; }
            var a = Math.Clamp(normalised[v] * _std[i] + _mean[i], -_max[i], _max[i]);
            if (i == _gripper && MathF.Abs(a) < Deadband) a = 0f;
            physical[v] = a;
        }
    }

    /// <summary>a * std + mean for every value: the physical actions a predictor input stands for, with no bounds, held
    /// dimensions or dead-band applied (the rollout's state integration; <see cref="Denormalise"/> is for execution).</summary>
    public void ToPhysical(ReadOnlySpan<float> normalised, Span<float> physical)
    {
        for (var v = 0; v < normalised.Length; v++)
        {
            var i = v % Dim;
            physical[v] = normalised[v] * _std[i] + _mean[i];
        }
    }

    public void Normalise(ReadOnlySpan<float> physical, Span<float> normalised)
    {
        for (var v = 0; v < physical.Length; v++)
        {
            var i = v % Dim;
            normalised[v] = (physical[v] - _mean[i]) / _std[i];
        }
    }
}
