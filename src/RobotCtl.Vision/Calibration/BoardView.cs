namespace RobotCtl.Vision.Calibration;

/// <summary>The corners found in one image.</summary>
public sealed record BoardView(string Image, float[] Corners, double ReprojectionErrorPx = double.NaN);
