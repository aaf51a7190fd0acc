namespace RobotCtl.Sim;

/// <summary>The block's pose on the table: centre in metres, yaw in radians (wrapped to (-pi, pi]).</summary>
public readonly record struct SimBlockPose(double X, double Y, double Yaw);
