using System.Text;
using Microsoft.Extensions.Logging;
using RobotCtl.Core.Arm;
using RobotCtl.Core.Timing;
using RobotCtl.Hardware.Mqtt;
using RobotCtl.Hardware.Protocol;

namespace RobotCtl.Hardware.Links;

/// <summary>
/// The controller's end of an MQTT arm link (hardware/PROTOCOL.md): publishes command frames to
/// robotctl/&lt;id&gt;/cmd, e-stop/re-arm frames to /estop, and listens to /state (state, heartbeat and error frames),
/// /status ("online"/"offline", retained; "offline" is the arm's last will) and /estop: any message there except a
/// Rearm frame is an e-stop request (<see cref="EStopRequested"/>), so a panic button or
/// <c>mosquitto_pub -t robotctl/&lt;id&gt;/estop -m stop</c> stops this controller too. Commands are published on the
/// caller's thread or refused (false) while the broker is unreachable: nothing is queued to burst out after a
/// reconnect. The connection reconnects with exponential backoff and resubscribes; the link reports each loss and return.
/// </summary>
public sealed partial class MqttArmLink : ReconnectingArmLink, IEStopSource, IMqttSink
{
    private const int StateTopic = 0, StatusTopic = 1, EStopTopic = 2;

    private readonly MqttLinkOptions _options;
    private readonly MqttConnection _connection;
    private readonly FrameDecoder _decoder = new();
    private readonly string _cmdTopic, _estopTopic;
    private readonly byte[] _frame = new byte[WireFrame.MaxFrameSize];
    private readonly Lock _sendGate = new();
    private volatile string _robotStatus = "unknown";
    private readonly Lock _estopGate = new();
    private Action<string>? _estopHandlers;
    private string? _pendingEStop;

    public MqttArmLink(MqttLinkOptions options, ILogger<MqttArmLink>? logger = null)
        : base((options ?? throw new ArgumentNullException(nameof(options))).ConnectTimeout, logger)
    {
        _options = options;
        var p = options.TopicPrefix;
        _cmdTopic = p + "/cmd";
        _estopTopic = p + "/estop";
        _connection = new MqttConnection(options, $"robotctl-ctl-{options.RobotId}-{Environment.ProcessId}-{Random.Shared.Next():x}",
            [p + "/state", p + "/status", p + "/estop"], will: null, this,
            // An e-stop request must not be lost to QoS 0: subscribe to it at least once, whatever the command QoS.
            [options.Qos, options.Qos, Math.Max(1, options.Qos)]);
    }

    public override string Description => $"mqtt {_options.Host}:{_options.Port} robot {_options.RobotId} qos {_options.Qos}";

    /// <summary>The robot's retained status: "online", "offline" (its last will) or "unknown".</summary>
    public string RobotStatus => _robotStatus;

    public event Action<string>? EStopRequested
    {
        add
        {
            string? pending;
            lock (_estopGate)
            {
                _estopHandlers += value;
                pending = _pendingEStop;
                _pendingEStop = null;
            }
            if (pending is not null) value?.Invoke(pending);
        }
        remove { lock (_estopGate) _estopHandlers -= value; }
    }
    public long Reconnects => Math.Max(0, _connection.Connects - 1);

    private protected override string Connecting => $"connecting to {_connection.Endpoint}";
    private protected override string NotConnected => "no connection";
    private protected override string LastTransportError => _connection.LastError;
    private protected override void StartTransport() => _connection.Start();
    private protected override void StopTransport() => _connection.Dispose();

    public override bool TrySend(in EeCommand command)
    {
        if (!_connection.IsConnected) return false;
        lock (_sendGate)
        {
            var n = WireFrame.EncodeCommand(_frame, State.NextSequence(), LinkState.NowMicros(), command);
            if (!_connection.TryPublish(_cmdTopic, _frame.AsSpan(0, n), _options.Qos, retain: false)) return false;
        }
        State.CountSent();
        return true;
    }

    private protected override bool SendControl(MessageType type)
    {
        lock (_sendGate)
        {
            var n = WireFrame.Encode(_frame, type, State.NextSequence(), LinkState.NowMicros(), []);
            return _connection.TryPublish(_estopTopic, _frame.AsSpan(0, n), 1, retain: false);
        }
    }

    void IMqttSink.OnConnected()
    {
        LogConnected(Logger, Description);
        ReportOnline($"{Description}: connected");
    }

    void IMqttSink.OnConnectionLost(string reason)
    {
        LogLost(Logger, Description, reason);
        ReportLost($"{Description}: {reason}; holding and reconnecting");
    }

    void IMqttSink.OnMessage(int topicIndex, ReadOnlySpan<byte> payload, bool retained)
    {
        if (topicIndex == EStopTopic)
        {
            OnEStopMessage(payload, retained);
            return;
        }
        if (topicIndex == StatusTopic)
        {
            var status = Encoding.UTF8.GetString(payload);
            if (status == _robotStatus) return;
            _robotStatus = status;
            State.Raise(Status, $"robot {_options.RobotId} is {status}");
            return;
        }
        // One MQTT message carries one whole frame; a fresh decoder state per message keeps a bad one from leaking.
        var now = MonotonicClock.Now;
        _decoder.Reset();
        _decoder.Feed(payload);
        while (_decoder.TryDecode(out var frame)) State.OnPeerFrame(frame, now);
    }

    /// <summary>
    /// Our own EStop frames come back here too (harmless: the latch is idempotent). A Rearm frame, ours or anyone's,
    /// is ignored: only an explicit local release (robotctl estop --release) re-arms this controller.
    /// </summary>
    private void OnEStopMessage(ReadOnlySpan<byte> payload, bool retained)
    {
        _decoder.Reset();
        _decoder.Feed(payload);
        var what = $"{payload.Length}-byte message";
        if (_decoder.TryDecode(out var frame))
        {
            if (frame.Type == MessageType.Rearm) return;
            what = frame.Type == MessageType.EStop ? "EStop frame" : $"{frame.Type} frame";
        }
        var reason = $"{what} on {_options.TopicPrefix}/estop{(retained ? " (retained)" : "")} via {_connection.Endpoint}";
        Action<string>? handlers;
        lock (_estopGate)
        {
            handlers = _estopHandlers;
            if (handlers is null) _pendingEStop ??= reason;
        }
        LogEStopRequest(Logger, reason);
        handlers?.Invoke(reason);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Link}: connected")]
    private static partial void LogConnected(ILogger logger, string link);

    [LoggerMessage(Level = LogLevel.Warning, Message = "e-stop requested: {Reason}")]
    private static partial void LogEStopRequest(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Link}: {Reason}; holding and reconnecting")]
    private static partial void LogLost(ILogger logger, string link, string reason);
}
