using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RobotCtl.Core.Arm;
using RobotCtl.Hardware.Protocol;
using RobotCtl.Hardware.Serial;

namespace RobotCtl.Hardware.Links;

/// <summary>
/// The controller's end of a serial arm link (protocol v1, hardware/PROTOCOL.md). A reader thread decodes state,
/// heartbeat and error frames; a writer thread sends the latest command from a one-slot mailbox, so a command
/// handed over while the previous one is still being written replaces it instead of queueing behind it. When the
/// device disappears the link reports Disconnected, refuses commands (the peer's watchdog holds the arm) and polls
/// for the device with backoff; on its return it reports Online again.
/// </summary>
public sealed partial class SerialArmLink : IArmLink, IArmEStop, ISerialFrameSink
{
    private readonly SerialLinkOptions _options;
    private readonly ILogger _logger;
    private readonly LinkState _state = new();
    private readonly SerialTransport _transport;
    private readonly Thread _writer;
    private readonly SemaphoreSlim _pending = new(0, 1);
    private readonly Lock _mailboxGate = new();
    private readonly byte[] _frame = new byte[Frame.MaxFrameSize];
    private readonly TaskCompletionSource _firstOpen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private EeCommand _mailbox;
    private bool _mailboxFull;
    private volatile bool _stopping;
    private int _started;
    private long _superseded;

    public SerialArmLink(SerialLinkOptions options, ILogger<SerialArmLink>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _transport = new SerialTransport(options, this, "serial-link-reader");
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "serial-link-writer" };
    }

    public string Description => $"serial {_options.Device} @ {_options.Baud}";
    public ArmLinkStatus Status => _state.Status;
    public event Action<ArmLinkEvent>? EventRaised { add => _state.EventRaised += value; remove => _state.EventRaised -= value; }

    public long CommandsSent => _state.CommandsSent;
    public long StatesReceived => _state.StatesReceived;
    /// <summary>Commands replaced in the mailbox by a newer one before they were written.</summary>
    public long CommandsSuperseded => Interlocked.Read(ref _superseded);
    public long CrcErrors => _transport.Decoder.CrcErrors;
    public long Reconnects => _transport.Reconnects;
    /// <summary>The arm's own report from its last heartbeat.</summary>
    public PeerStatus PeerStatus => _state.PeerStatus;

    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _state.SetStatus(ArmLinkStatus.Connecting, $"opening {Description}");
            _transport.Start();
            _writer.Start();
        }
        try
        {
            await _firstOpen.Task.WaitAsync(_options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new ArmLinkException($"{Description}: could not open the device within {_options.ConnectTimeout.TotalSeconds:0.#} s: {_transport.LastError}");
        }
    }

    public bool TrySend(in EeCommand command)
    {
        if (_stopping || !_transport.IsOpen) return false;
        lock (_mailboxGate)
        {
            if (_mailboxFull) Interlocked.Increment(ref _superseded);
            _mailbox = command;
            _mailboxFull = true;
        }
        if (_pending.CurrentCount == 0) { try { _pending.Release(); } catch (SemaphoreFullException) { } }
        return true;
    }

    /// <summary>Sends an e-stop frame now (the peer latches hold until <see cref="SendRearm"/>).</summary>
    public bool SendEStop() => SendControl(MessageType.EStop);

    public bool SendRearm() => SendControl(MessageType.Rearm);

    public bool TryGetLatestState(out ArmState state) => _state.TryGetLatest(out state);

    private bool SendControl(MessageType type)
    {
        Span<byte> frame = stackalloc byte[Frame.Overhead];
        var n = Frame.Encode(frame, type, _state.NextSequence(), LinkState.NowMicros(), []);
        return _transport.TryWrite(frame[..n]);
    }

    private void WriteLoop()
    {
        while (!_stopping)
        {
            _pending.Wait(100);
            EeCommand command;
            lock (_mailboxGate)
            {
                if (!_mailboxFull) continue;
                command = _mailbox;
                _mailboxFull = false;
            }
            var n = Frame.EncodeCommand(_frame, _state.NextSequence(), LinkState.NowMicros(), command);
            if (_transport.TryWrite(_frame.AsSpan(0, n))) _state.CountSent();
        }
    }

    void ISerialFrameSink.OnFrame(in DecodedFrame frame, long receivedTicks) => _state.OnPeerFrame(frame, receivedTicks);

    void ISerialFrameSink.OnConnected(string device)
    {
        LogOnline(_logger, Description);
        _state.SetStatus(ArmLinkStatus.Online, $"{Description}: open");
        _firstOpen.TrySetResult();
    }

    void ISerialFrameSink.OnDisconnected(string device, string reason)
    {
        lock (_mailboxGate) _mailboxFull = false; // a command from before the loss is stale by the time the device returns
        LogLost(_logger, Description, reason);
        _state.SetStatus(ArmLinkStatus.Disconnected, $"{Description}: device lost ({reason}); holding and reconnecting");
    }

    public ValueTask DisposeAsync()
    {
        _stopping = true;
        _transport.Dispose();
        if (_writer.IsAlive) _writer.Join(TimeSpan.FromSeconds(1));
        _pending.Dispose();
        _state.SetStatus(ArmLinkStatus.Disconnected, $"{Description}: closed");
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Link}: online")]
    private static partial void LogOnline(ILogger logger, string link);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Link}: device lost ({Reason}); holding and polling for it")]
    private static partial void LogLost(ILogger logger, string link, string reason);
}
