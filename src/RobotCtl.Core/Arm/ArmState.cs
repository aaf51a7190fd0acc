namespace RobotCtl.Core.Arm;

/// <summary>
/// The arm's measured end-effector pose in the robot base frame: position in metres, orientation as
/// extrinsic x-y-z Euler angles in radians, gripper closedness in [0, 1] (0 open, 1 closed).
/// <see cref="TimestampTicks"/> is the local monotonic time (<see cref="Timing.MonotonicClock"/>) at which the
/// state was received; <see cref="Sequence"/> is the peer's state counter.
/// </summary>
public readonly record struct ArmState(
    double X, double Y, double Z, double Roll, double Pitch, double Yaw, double Gripper,
    long TimestampTicks, uint Sequence)
{
    public const int Dim = 7;

    public void CopyPoseTo(Span<float> destination)
    {
        destination[0] = (float)X; destination[1] = (float)Y; destination[2] = (float)Z;
        destination[3] = (float)Roll; destination[4] = (float)Pitch; destination[5] = (float)Yaw; destination[6] = (float)Gripper;
    }

    public bool IsFinite =>
        double.IsFinite(X) && double.IsFinite(Y) && double.IsFinite(Z) && double.IsFinite(Roll) &&
        double.IsFinite(Pitch) && double.IsFinite(Yaw) && double.IsFinite(Gripper);
}
