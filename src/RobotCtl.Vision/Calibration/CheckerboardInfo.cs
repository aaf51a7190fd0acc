namespace RobotCtl.Vision.Calibration;

public sealed record CheckerboardInfo(int Cols, int Rows, double SquareMm);
