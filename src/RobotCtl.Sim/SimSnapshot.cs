namespace RobotCtl.Sim;

/// <summary>
/// The workcell's full dynamic state (everything <see cref="SimWorkcell.Restore"/> needs besides the scene):
/// effector pose (centre of its bottom disk; roll and pitch are always 0), gripper closedness in [0, 1],
/// block pose, and the command counter.
/// </summary>
public readonly record struct SimSnapshot(
    double EeX, double EeY, double EeZ, double EeYaw, double Gripper,
    double BlockX, double BlockY, double BlockYaw, uint Sequence)
{
    public SimBlockPose Block => new(BlockX, BlockY, BlockYaw);
}
