using Microsoft.Extensions.Logging;
using RobotCtl.Core.Arm;
using RobotCtl.Hardware.Links;
using RobotCtl.Hardware.Protocol;
using RobotCtl.Hardware.Serial;

namespace RobotCtl.Hardware.Servers;

/// <summary>
/// Exposes any <see cref="IArmBackend"/> (the simulated workcell, a driver) as an arm on a serial device, speaking
/// protocol v1: command frames in, state/heartbeat/error frames out. Survives the device going away like the link.
/// </summary>
public sealed partial class SerialArmServer : ArmServer, ISerialFrameSink
{
    private readonly SerialLinkOptions _serial;
    private readonly SerialTransport _transport;

    /// <param name="time">The arm side's clock (watchdog, publish periods, command freshness); default the system's.</param>
    public SerialArmServer(IArmBackend backend, SerialLinkOptions serial, ArmServerOptions? options = null, ILogger<SerialArmServer>? logger = null,
        TimeProvider? time = null) : base(backend, options, logger, "serial-arm-server", time)
    {
        ArgumentNullException.ThrowIfNull(serial);
        _serial = serial;
        _transport = new SerialTransport(serial, this, "serial-arm-server");
    }

    public override string Description => $"serial arm server {_serial.Device} @ {_serial.Baud}";
    public bool IsOpen => _transport.IsOpen;
    public long CrcErrors => _transport.Decoder.CrcErrors;

    /// <summary>The device is opened (and reopened) in the background.</summary>
    private protected override void StartTransport() => _transport.Start();

    private protected override void Send(ReadOnlySpan<byte> frame, MessageType type) => _transport.TryWrite(frame);

    private protected override ValueTask StopTransportAsync()
    {
        _transport.Dispose();
        return ValueTask.CompletedTask;
    }

    // The transport stamps frames on the monotonic clock (the system provider's timestamps); under another clock the
    // peer's own time of arrival is used so the watchdog and freshness never mix two time bases.
    void ISerialFrameSink.OnFrame(in DecodedFrame frame, long receivedTicks) =>
        Peer.OnFrame(frame, ReferenceEquals(Peer.Time, TimeProvider.System) ? receivedTicks : Peer.Time.GetTimestamp());
    void ISerialFrameSink.OnConnected(string device) => LogOpen(Logger, device, _serial.Baud);
    void ISerialFrameSink.OnDisconnected(string device, string reason) => LogLost(Logger, device, reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "serial arm server: {Device} open at {Baud} baud")]
    private static partial void LogOpen(ILogger logger, string device, int baud);

    [LoggerMessage(Level = LogLevel.Warning, Message = "serial arm server: {Device} lost ({Reason}); holding and polling for it")]
    private static partial void LogLost(ILogger logger, string device, string reason);
}
