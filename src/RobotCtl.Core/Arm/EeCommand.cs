using System.Runtime.CompilerServices;

namespace RobotCtl.Core.Arm;

/// <summary>
/// One low-level 7-D end-effector command in the robot base frame: translation deltas in metres,
/// rotation deltas in radians (extrinsic x-y-z Euler of R[k+1]·R[k]^T), and a gripper closedness delta
/// (the arm clips the resulting closedness to [0, 1]). All-zero is "hold": no motion.
/// See hardware/PROTOCOL.md for units and frames.
/// </summary>
public readonly record struct EeCommand(float Dx, float Dy, float Dz, float DRoll, float DPitch, float DYaw, float Gripper)
{
    public const int Dim = 7;

    /// <summary>The axes' names, in order (model.json's action.checkpoint_dims, import --action-dims).</summary>
    public static readonly IReadOnlyList<string> AxisNames = ["dx", "dy", "dz", "droll", "dpitch", "dyaw", "gripper"];

    /// <summary>Zero motion: what the arm is sent whenever a command cannot be vouched for.</summary>
    public static EeCommand Hold => default;

    public bool IsHold => this == default;

    public float this[int axis] => axis switch
    {
        0 => Dx, 1 => Dy, 2 => Dz, 3 => DRoll, 4 => DPitch, 5 => DYaw, 6 => Gripper,
        _ => throw new ArgumentOutOfRangeException(nameof(axis), axis, "axis must be 0..6"),
    };

    public static EeCommand FromSpan(ReadOnlySpan<float> v)
    {
        if (v.Length < Dim) throw new ArgumentException($"expected {Dim} values, found {v.Length}", nameof(v));
        return new EeCommand(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
    }

    public void CopyTo(Span<float> destination)
    {
        if (destination.Length < Dim) throw new ArgumentException($"expected room for {Dim} values, found {destination.Length}", nameof(destination));
        destination[0] = Dx; destination[1] = Dy; destination[2] = Dz;
        destination[3] = DRoll; destination[4] = DPitch; destination[5] = DYaw; destination[6] = Gripper;
    }

    /// <summary>True when every component is a finite number (no NaN, no infinity).</summary>
    public bool IsFinite =>
        float.IsFinite(Dx) && float.IsFinite(Dy) && float.IsFinite(Dz) && float.IsFinite(DRoll) &&
        float.IsFinite(DPitch) && float.IsFinite(DYaw) && float.IsFinite(Gripper);

    public override string ToString() =>
        $"[{Dx:+0.0000;-0.0000} {Dy:+0.0000;-0.0000} {Dz:+0.0000;-0.0000} {DRoll:+0.000;-0.000} {DPitch:+0.000;-0.000} {DYaw:+0.000;-0.000} {Gripper:+0.00;-0.00}]";
}
