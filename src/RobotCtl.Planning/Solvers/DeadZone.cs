namespace RobotCtl.Planning.Solvers;

/// <summary>A value of variable <see cref="Index"/> strictly between Low and High is replaced by SnapTo.</summary>
public readonly record struct DeadZone(int Index, float Low, float High, float SnapTo);
