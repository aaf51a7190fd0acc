namespace RobotCtl.Hardware.Serial;

/// <summary>A serial call failed; carries the device, the errno and its text.</summary>
public sealed class SerialPortException(string device, string operation, int errno, string? detail = null)
    : IOException($"serial {device}: {operation} failed: {(detail ?? LibC.ErrorText(errno))}{(errno != 0 ? $" (errno {errno})" : "")}")
{
    public string Device { get; } = device;
    public string Operation { get; } = operation;
    public int Errno { get; } = errno;
}
