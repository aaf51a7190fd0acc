using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RobotCtl.Core.Arm;
using RobotCtl.Hardware.Links;
using RobotCtl.Hardware.Protocol;
using RobotCtl.Hardware.Serial;

namespace RobotCtl.Hardware.Servers;

/// <summary>
/// Exposes any <see cref="IArmBackend"/> (the simulated workcell, a driver) as an arm on a serial device, speaking
/// protocol v1: command frames in, state/heartbeat/error frames out. Survives the device going away like the link.
/// </summary>
public sealed partial class SerialArmServer : IAsyncDisposable, ISerialFrameSink, IPeerOutput
{
    private readonly SerialLinkOptions _serial;
    private readonly ILogger _logger;
    private readonly SerialTransport _transport;
    private readonly ArmPeer _peer;
    private readonly Lock _writeGate = new();
    private readonly byte[] _frame = new byte[Frame.MaxFrameSize];
    private uint _sequence;

    /// <param name="time">The arm side's clock (watchdog, publish periods, command freshness); default the system's.</param>
    public SerialArmServer(IArmBackend backend, SerialLinkOptions serial, ArmServerOptions? options = null, ILogger<SerialArmServer>? logger = null,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(serial);
        _serial = serial;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _transport = new SerialTransport(serial, this, "serial-arm-server");
        _peer = new ArmPeer(backend, options ?? new ArmServerOptions(), _logger, this, "serial-arm-server", time);
    }

    /// <summary>Every command frame that arrived, with what was done with it (on the reader thread).</summary>
    public event Action<ReceivedCommand>? CommandReceived { add => _peer.CommandReceived += value; remove => _peer.CommandReceived -= value; }

    public string Description => $"serial arm server {_serial.Device} @ {_serial.Baud}";
    public bool IsOpen => _transport.IsOpen;
    public long CommandsApplied => _peer.Applied;
    public long CommandsDroppedStale => _peer.DroppedStale;
    public long CommandsDroppedDuplicate => _peer.DroppedDuplicate;
    public long CommandsRejected => _peer.Rejected;
    public long WatchdogHolds => _peer.WatchdogHolds;
    public bool IsHolding => _peer.IsHolding;
    public bool IsEStopped => _peer.IsEStopped;
    public long CrcErrors => _transport.Decoder.CrcErrors;

    /// <summary>Starts serving; the device is opened (and reopened) in the background.</summary>
    public void Start()
    {
        _transport.Start();
        _peer.Start();
    }

    // The transport stamps frames on the monotonic clock (the system provider's timestamps); under another clock the
    // peer's own time of arrival is used so the watchdog and freshness never mix two time bases.
    void ISerialFrameSink.OnFrame(in DecodedFrame frame, long receivedTicks) =>
        _peer.OnFrame(frame, ReferenceEquals(_peer.Time, TimeProvider.System) ? receivedTicks : _peer.Time.GetTimestamp());
    void ISerialFrameSink.OnConnected(string device) => LogOpen(_logger, device, _serial.Baud);
    void ISerialFrameSink.OnDisconnected(string device, string reason) => LogLost(_logger, device, reason);

    void IPeerOutput.SendState(in ArmState state, uint lastAppliedSequence)
    {
        lock (_writeGate)
        {
            var n = Frame.EncodeState(_frame, ++_sequence, LinkState.NowMicros(), state, lastAppliedSequence);
            _transport.TryWrite(_frame.AsSpan(0, n));
        }
    }

    void IPeerOutput.SendHeartbeat(PeerStatus status)
    {
        lock (_writeGate)
        {
            var n = Frame.EncodeHeartbeat(_frame, ++_sequence, LinkState.NowMicros(), status);
            _transport.TryWrite(_frame.AsSpan(0, n));
        }
    }

    void IPeerOutput.SendError(ushort code, string message)
    {
        lock (_writeGate)
        {
            var n = Frame.EncodeError(_frame, ++_sequence, LinkState.NowMicros(), code, message);
            _transport.TryWrite(_frame.AsSpan(0, n));
        }
    }

    public ValueTask DisposeAsync()
    {
        _peer.Dispose();
        _transport.Dispose();
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "serial arm server: {Device} open at {Baud} baud")]
    private static partial void LogOpen(ILogger logger, string device, int baud);

    [LoggerMessage(Level = LogLevel.Warning, Message = "serial arm server: {Device} lost ({Reason}); holding and polling for it")]
    private static partial void LogLost(ILogger logger, string device, string reason);
}
