namespace RobotCtl.Core.Arm;

/// <summary>
/// Maps an action in the model's physical action frame (the frame its training data was recorded in, e.g. the
/// camera-aligned frame of the sim) to a command in the robot base frame: base[i] = Sign[i] * Scale[i] * model[AxisOrder[i]].
/// Loaded from the rig's calibration (calibration/&lt;rig&gt;/action.json). Identity by default.
/// </summary>
public sealed record ActionMapping
{
    public int[] AxisOrder { get; init; } = [0, 1, 2, 3, 4, 5, 6];
    public float[] Sign { get; init; } = [1, 1, 1, 1, 1, 1, 1];
    public float[] Scale { get; init; } = [1, 1, 1, 1, 1, 1, 1];

    public static ActionMapping Identity { get; } = new();

    public void Validate()
    {
        if (AxisOrder is not { Length: EeCommand.Dim } || Sign is not { Length: EeCommand.Dim } || Scale is not { Length: EeCommand.Dim })
            throw new ArgumentException($"ActionMapping: AxisOrder, Sign and Scale need {EeCommand.Dim} values each");
        if (AxisOrder.Order().Where((a, i) => a != i).Any())
            throw new ArgumentException($"ActionMapping.AxisOrder: expected a permutation of 0..6, found [{string.Join(", ", AxisOrder)}]");
        for (var i = 0; i < EeCommand.Dim; i++)
        {
            if (Sign[i] is not (1 or -1)) throw new ArgumentException($"ActionMapping.Sign[{i}]: expected +1 or -1, found {Sign[i]}");
            if (!(Scale[i] > 0) || !float.IsFinite(Scale[i])) throw new ArgumentException($"ActionMapping.Scale[{i}]: expected a finite value > 0, found {Scale[i]}");
        }
    }

    public EeCommand ToRobot(ReadOnlySpan<float> modelAction)
    {
        Span<float> o = stackalloc float[EeCommand.Dim];
        for (var i = 0; i < EeCommand.Dim; i++) o[i] = Sign[i] * Scale[i] * modelAction[AxisOrder[i]];
        return EeCommand.FromSpan(o);
    }

    /// <summary>The inverse: a robot-frame command expressed in the model's action frame (replay, limits).</summary>
    public void ToModel(in EeCommand robot, Span<float> modelAction)
    {
        for (var i = 0; i < EeCommand.Dim; i++) modelAction[AxisOrder[i]] = robot[i] / (Sign[i] * Scale[i]);
    }
}
