using System.Runtime.InteropServices;

namespace RobotCtl.Hardware.Serial;

/// <summary>Owns one open tty file descriptor.</summary>
public sealed class SafeSerialHandle : SafeHandle
{
    public SafeSerialHandle() : base(-1, ownsHandle: true) { }
    internal SafeSerialHandle(int fd) : base(-1, ownsHandle: true) => SetHandle(fd);

    public override bool IsInvalid => handle.ToInt64() < 0;

    internal int Fd => (int)handle;

    protected override bool ReleaseHandle() => LibC.Close((int)handle) == 0;
}
