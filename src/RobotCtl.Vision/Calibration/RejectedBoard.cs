namespace RobotCtl.Vision.Calibration;

public sealed record RejectedBoard(string Image, string Reason);
