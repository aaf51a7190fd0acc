namespace RobotCtl.Vision.Calibration;

/// <summary>Pinhole intrinsics in pixels.</summary>
public sealed record CameraIntrinsics(double Fx, double Fy, double Cx, double Cy);
