using Microsoft.Extensions.Logging;
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
public sealed partial class SerialArmLink : ReconnectingArmLink, ISerialFrameSink
{
    private readonly SerialLinkOptions _options;
    private readonly SerialTransport _transport;
    private readonly Thread _writer;
    private readonly SemaphoreSlim _pending = new(0, 1);
    private readonly Lock _mailboxGate = new();
    private readonly byte[] _frame = new byte[WireFrame.MaxFrameSize];
    private EeCommand _mailbox;
    private bool _mailboxFull;
    private volatile bool _stopping;
    private long _superseded;

    public SerialArmLink(SerialLinkOptions options, ILogger<SerialArmLink>? logger = null)
        : base((options ?? throw new ArgumentNullException(nameof(options))).ConnectTimeout, logger)
    {
        _options = options;
        _transport = new SerialTransport(options, this, "serial-link-reader");
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "serial-link-writer" };
    }

    public override string Description => $"serial {_options.Device} @ {_options.Baud}";

    /// <summary>Commands replaced in the mailbox by a newer one before they were written.</summary>
    public override long CommandsSuperseded => Interlocked.Read(ref _superseded);
    public long CrcErrors => _transport.Decoder.CrcErrors;
    public long Reconnects => _transport.Reconnects;

    private protected override string Connecting => $"opening {Description}";
    private protected override string NotConnected => "could not open the device";
    private protected override string LastTransportError => _transport.LastError;

    private protected override void StartTransport()
    {
        _transport.Start();
        _writer.Start();
    }

    private protected override void StopTransport()
    {
        _stopping = true;
        _transport.Dispose();
        if (_writer.IsAlive) _writer.Join(TimeSpan.FromSeconds(1));
        _pending.Dispose();
    }

    public override bool TrySend(in EeCommand command)
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

    private protected override bool SendControl(MessageType type)
    {
        Span<byte> frame = stackalloc byte[WireFrame.Overhead];
        var n = WireFrame.Encode(frame, type, State.NextSequence(), LinkState.NowMicros(), []);
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
            var n = WireFrame.EncodeCommand(_frame, State.NextSequence(), LinkState.NowMicros(), command);
            if (_transport.TryWrite(_frame.AsSpan(0, n))) State.CountSent();
        }
    }

    void ISerialFrameSink.OnFrame(in DecodedFrame frame, long receivedTicks) => State.OnPeerFrame(frame, receivedTicks);

    void ISerialFrameSink.OnConnected(string device)
    {
        LogOnline(Logger, Description);
        ReportOnline($"{Description}: open");
    }

    void ISerialFrameSink.OnDisconnected(string device, string reason)
    {
        lock (_mailboxGate) _mailboxFull = false; // a command from before the loss is stale by the time the device returns
        LogLost(Logger, Description, reason);
        ReportLost($"{Description}: device lost ({reason}); holding and reconnecting");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Link}: online")]
    private static partial void LogOnline(ILogger logger, string link);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Link}: device lost ({Reason}); holding and polling for it")]
    private static partial void LogLost(ILogger logger, string link, string reason);
}
