namespace RobotCtl.Core.Arm;

/// <summary>
/// Physical limits of a rig, in the base frame and in the units of <see cref="EeCommand"/>. One source of truth
/// shared by the planner (which never scores a candidate outside them) and the safety governor (which never
/// sends one).
/// </summary>
public sealed record SafetyLimits
{
    /// <summary>Largest absolute per-step delta on each of the 7 command axes.</summary>
    public required float[] MaxStep { get; init; }

    /// <summary>Workspace box for the end-effector position, metres: [xmin, ymin, zmin].</summary>
    public required double[] WorkspaceMin { get; init; }

    /// <summary>Workspace box for the end-effector position, metres: [xmax, ymax, zmax].</summary>
    public required double[] WorkspaceMax { get; init; }

    /// <summary>Most commands per second the arm accepts.</summary>
    public double MaxRateHz { get; init; } = 50;

    /// <summary>Without a fresh command for this long, the arm is sent hold.</summary>
    public TimeSpan CommandWatchdog { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>A state older than this cannot vouch for a workspace check: hold.</summary>
    public TimeSpan MaxStateAge { get; init; } = TimeSpan.FromMilliseconds(500);

    public void Validate()
    {
        if (MaxStep is not { Length: EeCommand.Dim }) throw new ArgumentException($"MaxStep: expected {EeCommand.Dim} values, found {MaxStep?.Length ?? 0}");
        for (var i = 0; i < MaxStep.Length; i++)
            if (!(MaxStep[i] >= 0) || !float.IsFinite(MaxStep[i])) throw new ArgumentException($"MaxStep[{i}]: expected a finite value >= 0, found {MaxStep[i]}");
        if (WorkspaceMin is not { Length: 3 } || WorkspaceMax is not { Length: 3 }) throw new ArgumentException("WorkspaceMin/WorkspaceMax: expected 3 values each");
        for (var i = 0; i < 3; i++)
            if (!(WorkspaceMin[i] < WorkspaceMax[i])) throw new ArgumentException($"Workspace axis {i}: expected min < max, found {WorkspaceMin[i]} >= {WorkspaceMax[i]}");
        if (!(MaxRateHz > 0)) throw new ArgumentException($"MaxRateHz: expected > 0, found {MaxRateHz}");
        if (CommandWatchdog <= TimeSpan.Zero) throw new ArgumentException($"CommandWatchdog: expected > 0, found {CommandWatchdog}");
    }
}
