using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RobotCtl.Core.Arm;
using RobotCtl.Hardware.Links;
using RobotCtl.Hardware.Mqtt;
using RobotCtl.Hardware.Protocol;

namespace RobotCtl.Hardware.Servers;

/// <summary>
/// Exposes any <see cref="IArmBackend"/> as robot &lt;id&gt; on an MQTT broker: listens to /cmd and /estop, publishes
/// state, heartbeat and error frames to /state, and "online" (retained) to /status on every connect, with a last
/// will of "offline" (retained) that the broker publishes if this process dies or loses the broker ungracefully.
/// </summary>
public sealed partial class MqttArmServer : IAsyncDisposable, IMqttSink, IPeerOutput
{
    private const int CmdTopic = 0, EStopTopic = 1;

    private readonly MqttLinkOptions _options;
    private readonly ILogger _logger;
    private readonly MqttConnection _connection;
    private readonly ArmPeer _peer;
    private readonly FrameDecoder _decoder = new();
    private readonly string _stateTopic, _statusTopic;
    private readonly byte[] _frame = new byte[Frame.MaxFrameSize];
    private readonly Lock _publishGate = new();
    private uint _sequence;

    /// <param name="time">The arm side's clock (watchdog, publish periods, command freshness); default the system's.</param>
    public MqttArmServer(IArmBackend backend, MqttLinkOptions mqtt, ArmServerOptions? options = null, ILogger<MqttArmServer>? logger = null,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(mqtt);
        _options = mqtt;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        var p = mqtt.TopicPrefix;
        _stateTopic = p + "/state";
        _statusTopic = p + "/status";
        _connection = new MqttConnection(mqtt, $"robotctl-arm-{mqtt.RobotId}-{Environment.ProcessId}",
            [p + "/cmd", p + "/estop"], will: (p + "/status", "offline"), this);
        _peer = new ArmPeer(backend, options ?? new ArmServerOptions(), _logger, this, "mqtt-arm-server", time);
    }

    public event Action<ReceivedCommand>? CommandReceived { add => _peer.CommandReceived += value; remove => _peer.CommandReceived -= value; }

    public string Description => $"mqtt arm server {_options.Host}:{_options.Port} robot {_options.RobotId}";
    public bool IsConnected => _connection.IsConnected;
    public string LastError => _connection.LastError;
    public long CommandsApplied => _peer.Applied;
    public long CommandsDroppedStale => _peer.DroppedStale;
    public long CommandsDroppedDuplicate => _peer.DroppedDuplicate;
    public long CommandsRejected => _peer.Rejected;
    public long WatchdogHolds => _peer.WatchdogHolds;
    public bool IsHolding => _peer.IsHolding;
    public bool IsEStopped => _peer.IsEStopped;

    public void Start()
    {
        _connection.Start();
        _peer.Start();
    }

    /// <summary>Test aid: drops the broker connection the way a crash would (the broker then publishes the will).</summary>
    internal void SimulateCrash() => _connection.AbortWithoutDisconnect();

    void IMqttSink.OnConnected()
    {
        _connection.TryPublish(_statusTopic, "online"u8, 1, retain: true);
        LogConnected(_logger, Description);
    }

    void IMqttSink.OnConnectionLost(string reason) => LogLost(_logger, Description, reason);

    void IMqttSink.OnMessage(int topicIndex, ReadOnlySpan<byte> payload, bool retained)
    {
        if (retained) return; // a retained command is by definition old
        var now = _peer.Time.GetTimestamp();
        _decoder.Reset();
        _decoder.Feed(payload);
        while (_decoder.TryDecode(out var frame))
        {
            var isControl = frame.Type is MessageType.EStop or MessageType.Rearm;
            if ((topicIndex == EStopTopic) == isControl) _peer.OnFrame(frame, now);
        }
    }

    void IPeerOutput.SendState(in ArmState state, uint lastAppliedSequence)
    {
        lock (_publishGate)
        {
            var n = Frame.EncodeState(_frame, ++_sequence, LinkState.NowMicros(), state, lastAppliedSequence);
            _connection.TryPublish(_stateTopic, _frame.AsSpan(0, n), _options.Qos, retain: false);
        }
    }

    void IPeerOutput.SendHeartbeat(PeerStatus status)
    {
        lock (_publishGate)
        {
            var n = Frame.EncodeHeartbeat(_frame, ++_sequence, LinkState.NowMicros(), status);
            _connection.TryPublish(_stateTopic, _frame.AsSpan(0, n), 0, retain: false);
        }
    }

    void IPeerOutput.SendError(ushort code, string message)
    {
        lock (_publishGate)
        {
            var n = Frame.EncodeError(_frame, ++_sequence, LinkState.NowMicros(), code, message);
            _connection.TryPublish(_stateTopic, _frame.AsSpan(0, n), 1, retain: false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _peer.Dispose();
        // A clean shutdown says "offline" itself (the will is only for unclean ends); give it a moment to go out.
        if (_connection.TryPublish(_statusTopic, "offline"u8, 1, retain: true)) await Task.Delay(100).ConfigureAwait(false);
        _connection.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Server}: connected, status online")]
    private static partial void LogConnected(ILogger logger, string server);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Server}: {Reason}; holding and reconnecting")]
    private static partial void LogLost(ILogger logger, string server, string reason);
}
