namespace RobotCtl.Vision.Cameras;

internal enum GrabResult { Frame, EndOfStream, Failed }
