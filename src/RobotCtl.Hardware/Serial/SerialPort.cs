namespace RobotCtl.Hardware.Serial;

/// <summary>
/// A tty configured raw 8N1 at a fixed speed (termios through libc). Opened O_RDWR|O_NOCTTY|O_NONBLOCK so that
/// neither open nor a stalled device can block a thread forever; reads and writes wait with poll() and a timeout.
/// VMIN/VTIME are set to 0/0 (return what is there) because poll carries the timeouts.
/// </summary>
public sealed unsafe class SerialPort : IDisposable
{
    private readonly SafeSerialHandle _handle;

    private SerialPort(string device, int baud, SafeSerialHandle handle)
    {
        Device = device; Baud = baud; _handle = handle;
    }

    public string Device { get; }
    public int Baud { get; }

    public static bool IsSupportedBaud(int baud) => LibC.TryGetSpeedCode(baud, out _);

    /// <summary>Opens and configures <paramref name="device"/>; throws <see cref="SerialPortException"/> with the errno text.</summary>
    public static SerialPort Open(string device, int baud)
    {
        if (!LibC.TryGetSpeedCode(baud, out var speed))
            throw new SerialPortException(device, "configure", 0, $"baud {baud} is not a standard termios speed (9600..4000000, e.g. 115200 or 1000000)");
        var fd = LibC.Open(device, LibC.O_RDWR | LibC.O_NOCTTY | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
        if (fd < 0) throw new SerialPortException(device, "open", LibC.LastErrno);
        var handle = new SafeSerialHandle(fd);
        try
        {
            if (LibC.IsATty(fd) != 1) throw new SerialPortException(device, "open", LibC.LastErrno, "not a terminal device");
            LibC.Termios t;
            if (LibC.TcGetAttr(fd, &t) != 0) throw new SerialPortException(device, "tcgetattr", LibC.LastErrno);
            LibC.CfMakeRaw(&t); // no echo, no canonical mode, no signals, no CR/NL translation, 8 bits
            t.c_cflag &= ~(LibC.CSIZE | LibC.PARENB | LibC.CSTOPB | LibC.CRTSCTS);
            t.c_cflag |= LibC.CS8 | LibC.CREAD | LibC.CLOCAL;
            t.c_cc[LibC.VMIN] = 0;
            t.c_cc[LibC.VTIME] = 0;
            if (LibC.CfSetSpeed(&t, speed) != 0) throw new SerialPortException(device, $"cfsetspeed({baud})", LibC.LastErrno);
            if (LibC.TcSetAttr(fd, LibC.TCSANOW, &t) != 0) throw new SerialPortException(device, "tcsetattr", LibC.LastErrno);
            LibC.TcFlush(fd, LibC.TCIOFLUSH); // bytes from before we opened belong to nobody
            return new SerialPort(device, baud, handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> for bytes and reads what is there; returns 0 on timeout. Throws
    /// <see cref="SerialPortException"/> when the device is gone (hang-up, EIO).
    /// </summary>
    public int Read(Span<byte> buffer, int timeoutMs)
    {
        var fd = _handle.Fd;
        var pfd = new LibC.PollFd { fd = fd, events = LibC.POLLIN };
        var rc = LibC.Poll(&pfd, 1, timeoutMs);
        if (rc < 0)
        {
            var errno = LibC.LastErrno;
            if (errno == LibC.EINTR) return 0;
            throw new SerialPortException(Device, "poll", errno);
        }
        if (rc == 0) return 0;
        if ((pfd.revents & LibC.POLLIN) == 0 && (pfd.revents & (LibC.POLLHUP | LibC.POLLERR | LibC.POLLNVAL)) != 0)
            throw new SerialPortException(Device, "read", 0, "device hung up");
        fixed (byte* p = buffer)
        {
            var n = LibC.Read(fd, p, buffer.Length);
            if (n > 0) return (int)n;
            if (n == 0) throw new SerialPortException(Device, "read", 0, "end of file (device gone)");
            var errno = LibC.LastErrno;
            if (errno is LibC.EAGAIN or LibC.EINTR) return 0;
            throw new SerialPortException(Device, "read", errno);
        }
    }

    /// <summary>Writes all of <paramref name="data"/>, waiting at most <paramref name="timeoutMs"/> for room; false on timeout.</summary>
    public bool Write(ReadOnlySpan<byte> data, int timeoutMs)
    {
        var fd = _handle.Fd;
        var deadline = Environment.TickCount64 + timeoutMs;
        fixed (byte* start = data)
        {
            var done = 0;
            while (done < data.Length)
            {
                var n = LibC.Write(fd, start + done, data.Length - done);
                if (n > 0) { done += (int)n; continue; }
                var errno = n < 0 ? LibC.LastErrno : LibC.EAGAIN;
                if (errno == LibC.EINTR) continue;
                if (errno != LibC.EAGAIN) throw new SerialPortException(Device, "write", errno);
                var left = (int)(deadline - Environment.TickCount64);
                if (left <= 0) return false;
                var pfd = new LibC.PollFd { fd = fd, events = LibC.POLLOUT };
                if (LibC.Poll(&pfd, 1, left) < 0 && LibC.LastErrno != LibC.EINTR) throw new SerialPortException(Device, "poll", LibC.LastErrno);
                if ((pfd.revents & (LibC.POLLHUP | LibC.POLLERR | LibC.POLLNVAL)) != 0) throw new SerialPortException(Device, "write", 0, "device hung up");
            }
        }
        return true;
    }

    /// <summary>The device's current termios settings (tests check what Open configured).</summary>
    internal LibC.Termios GetAttributes()
    {
        LibC.Termios t;
        if (LibC.TcGetAttr(_handle.Fd, &t) != 0) throw new SerialPortException(Device, "tcgetattr", LibC.LastErrno);
        return t;
    }

    public void Dispose() => _handle.Dispose();
}
