using Microsoft.Extensions.Logging;
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
public sealed partial class MqttArmServer : ArmServer, IMqttSink
{
    private const int EStopTopic = 1; // the subscriptions: /cmd, /estop

    private readonly MqttLinkOptions _options;
    private readonly MqttConnection _connection;
    private readonly FrameDecoder _decoder = new();
    private readonly string _stateTopic, _statusTopic;

    /// <param name="time">The arm side's clock (watchdog, publish periods, command freshness); default the system's.</param>
    public MqttArmServer(IArmBackend backend, MqttLinkOptions mqtt, ArmServerOptions? options = null, ILogger<MqttArmServer>? logger = null,
        TimeProvider? time = null) : base(backend, options, logger, "mqtt-arm-server", time)
    {
        ArgumentNullException.ThrowIfNull(mqtt);
        _options = mqtt;
        var p = mqtt.TopicPrefix;
        _stateTopic = p + "/state";
        _statusTopic = p + "/status";
        _connection = new MqttConnection(mqtt, $"robotctl-arm-{mqtt.RobotId}-{Environment.ProcessId}",
            [p + "/cmd", p + "/estop"], will: (p + "/status", "offline"), this);
    }

    public override string Description => $"mqtt arm server {_options.Host}:{_options.Port} robot {_options.RobotId}";
    public bool IsConnected => _connection.IsConnected;
    public string LastError => _connection.LastError;

    /// <summary>Test aid: drops the broker connection the way a crash would (the broker then publishes the will).</summary>
    internal void SimulateCrash() => _connection.AbortWithoutDisconnect();

    private protected override void StartTransport() => _connection.Start();

    // State at the link's QoS; a lost heartbeat is replaced by the next (QoS 0); an error is said once, so at least once.
    private protected override void Send(ReadOnlySpan<byte> frame, MessageType type) =>
        _connection.TryPublish(_stateTopic, frame, type switch { MessageType.State => _options.Qos, MessageType.Heartbeat => 0, _ => 1 }, retain: false);

    private protected override async ValueTask StopTransportAsync()
    {
        // A clean shutdown says "offline" itself (the will is only for unclean ends); give it a moment to go out.
        if (_connection.TryPublish(_statusTopic, "offline"u8, 1, retain: true)) await Task.Delay(100).ConfigureAwait(false);
        _connection.Dispose();
    }

    void IMqttSink.OnConnected()
    {
        _connection.TryPublish(_statusTopic, "online"u8, 1, retain: true);
        LogConnected(Logger, Description);
    }

    void IMqttSink.OnConnectionLost(string reason) => LogLost(Logger, Description, reason);

    void IMqttSink.OnMessage(int topicIndex, ReadOnlySpan<byte> payload, bool retained)
    {
        if (retained) return; // a retained command is by definition old
        var now = Peer.Time.GetTimestamp();
        _decoder.Reset();
        _decoder.Feed(payload);
        while (_decoder.TryDecode(out var frame))
        {
            var isControl = frame.Type is MessageType.EStop or MessageType.Rearm;
            if ((topicIndex == EStopTopic) == isControl) Peer.OnFrame(frame, now);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Server}: connected, status online")]
    private static partial void LogConnected(ILogger logger, string server);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Server}: {Reason}; holding and reconnecting")]
    private static partial void LogLost(ILogger logger, string server, string reason);
}
