namespace RobotCtl.Hardware.Links;

/// <summary>Serial transport settings (both ends).</summary>
public sealed record SerialLinkOptions
{
    /// <summary>The tty, e.g. /dev/ttyUSB0 or a pty link.</summary>
    public required string Device { get; init; }
    /// <summary>A standard termios speed: 9600 .. 4000000 (115200 and 1000000 are the usual ones).</summary>
    public int Baud { get; init; } = 115200;
    /// <summary>First wait before trying to reopen a device that went away; doubles per failure up to <see cref="ReconnectMaxDelay"/>.</summary>
    public TimeSpan ReconnectInitialDelay { get; init; } = TimeSpan.FromMilliseconds(50);
    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>How long <c>ConnectAsync</c> waits for the first open before failing.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Longest a write may wait for room in the device's output buffer before the frame is dropped.</summary>
    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromMilliseconds(50);

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Device)) throw new ArgumentException("Serial.Device: expected a tty path, found nothing");
        if (!Serial.SerialPort.IsSupportedBaud(Baud)) throw new ArgumentException($"Serial.Baud: expected a standard speed (9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 921600, 1000000, 2000000, ...), found {Baud}");
        if (ReconnectInitialDelay <= TimeSpan.Zero || ReconnectMaxDelay < ReconnectInitialDelay) throw new ArgumentException($"Serial reconnect delays: expected 0 < initial <= max, found {ReconnectInitialDelay} / {ReconnectMaxDelay}");
    }
}
