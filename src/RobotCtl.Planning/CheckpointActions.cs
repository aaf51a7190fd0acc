using RobotCtl.Core.WorldModel;

namespace RobotCtl.Planning;

/// <summary>
/// Actions in an imported checkpoint's own units: normalised blocks of <see cref="WorldModelSpec.ActionBlock"/> low-level
/// actions over the checkpoint's action dimensions only (<see cref="WorldModelSpec.CheckpointActionDims"/>), e.g.
/// 5 x (dx, dy) for a PushT LeWM. The planner works with all of the model's dimensions; the others are held at their
/// normalised physical zero (-mean/std), which the predictor graph does not read anyway.
/// </summary>
public static class CheckpointActions
{
    /// <summary>Expands whole blocks in checkpoint units into the model's normalised layout (dimension-fastest).</summary>
    public static void Expand(WorldModelSpec spec, ReadOnlySpan<float> checkpointUnits, Span<float> normalised)
    {
        var dims = spec.CheckpointActionDims;
        var n = dims?.Length ?? spec.ActionDim;
        var actions = checkpointUnits.Length / n;
        if (checkpointUnits.Length % n != 0 || normalised.Length != actions * spec.ActionDim)
            throw new ArgumentException($"actions: {checkpointUnits.Length} values in checkpoint units ({n} per action) do not fill {normalised.Length} model values ({spec.ActionDim} per action)");
        if (dims is null)
        {
            checkpointUnits.CopyTo(normalised);
            return;
        }
        for (var a = 0; a < actions; a++)
        {
            var row = normalised.Slice(a * spec.ActionDim, spec.ActionDim);
            for (var i = 0; i < row.Length; i++) row[i] = -spec.ActionMean[i] / spec.ActionStd[i];
            for (var j = 0; j < n; j++) row[dims[j]] = checkpointUnits[a * n + j];
        }
    }

    /// <summary>"block 5 x 2 dims (dx, dy)": how one block in checkpoint units is laid out, for messages.</summary>
    public static string DescribeBlock(WorldModelSpec spec, IReadOnlyList<string> axisNames)
    {
        var dims = spec.CheckpointActionDims;
        var names = dims is null
            ? (spec.ActionDim == axisNames.Count ? string.Join(", ", axisNames) : $"{spec.ActionDim} model dims")
            : string.Join(", ", dims.Select(d => axisNames[d]));
        var n = dims?.Length ?? spec.ActionDim;
        return $"{spec.ActionBlock * n} values: block {spec.ActionBlock} x {n} dims ({names}), normalised, dimension-fastest";
    }
}
