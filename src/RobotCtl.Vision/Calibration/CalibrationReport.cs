namespace RobotCtl.Vision.Calibration;

/// <summary>The result of a calibration run.</summary>
public sealed record CalibrationReport(CameraCalibration Calibration, IReadOnlyList<BoardView> Used, IReadOnlyList<RejectedBoard> Rejected);
