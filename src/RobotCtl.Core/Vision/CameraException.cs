namespace RobotCtl.Core.Vision;

public sealed class CameraException(string message, Exception? inner = null) : Exception(message, inner);
