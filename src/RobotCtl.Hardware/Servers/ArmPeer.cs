using Microsoft.Extensions.Logging;
using RobotCtl.Core.Arm;
using RobotCtl.Hardware.Links;
using RobotCtl.Hardware.Protocol;

namespace RobotCtl.Hardware.Servers;

/// <summary>
/// The arm side of the protocol, independent of the transport: applies fresh commands to the backend, drops stale,
/// duplicate and non-finite ones (with an error frame for the latter), latches e-stop until re-arm, holds when the
/// controller falls silent (watchdog), publishes state after each command and periodically, and heartbeats.
/// Every age and deadline is read from the injected <see cref="TimeProvider"/> (received ticks included), so the
/// watchdog can be unit-tested by advancing a manual clock and calling <see cref="Tick"/>.
/// </summary>
internal sealed partial class ArmPeer : IDisposable
{
    public const ushort ErrorNonFinite = 1;
    public const ushort ErrorBadPayload = 2;
    public const ushort ErrorEStopped = 3;

    private readonly IArmBackend _backend;
    private readonly ArmServerOptions _options;
    private readonly ILogger _logger;
    private readonly IPeerOutput _output;
    private readonly CommandFreshness _freshness;
    private readonly TimeProvider _time;
    private readonly long _stateEvery, _beatEvery, _watchdog;
    private readonly Lock _gate = new();
    private readonly Thread _ticker;
    private readonly CancellationTokenSource _stop = new();
    private long _lastCommandTicks;
    private bool _holding = true, _estopped;
    private uint _lastApplied;
    private long _lastStateTicks, _lastBeatTicks;
    private bool _tickedOnce;
    private long _applied, _stale, _duplicates, _rejected, _watchdogHolds;

    /// <param name="time">The clock for the watchdog, publish periods and freshness; received ticks passed to
    /// <see cref="OnFrame"/> must be its timestamps. Default: <see cref="TimeProvider.System"/> (the monotonic clock).</param>
    public ArmPeer(IArmBackend backend, ArmServerOptions options, ILogger logger, IPeerOutput output, string name, TimeProvider? time = null)
    {
        options.Validate();
        _backend = backend; _options = options; _logger = logger; _output = output;
        _time = time ?? TimeProvider.System;
        _stateEvery = ToTimestamp(options.StateInterval);
        _beatEvery = ToTimestamp(options.HeartbeatInterval);
        _watchdog = ToTimestamp(options.Watchdog);
        _freshness = new CommandFreshness((long)options.MaxCommandAge.TotalMicroseconds);
        _ticker = new Thread(TickLoop) { IsBackground = true, Name = name + "-ticker" };
    }

    public event Action<ReceivedCommand>? CommandReceived;

    public long Applied => Interlocked.Read(ref _applied);
    public long DroppedStale => Interlocked.Read(ref _stale);
    public long DroppedDuplicate => Interlocked.Read(ref _duplicates);
    public long Rejected => Interlocked.Read(ref _rejected);
    public long WatchdogHolds => Interlocked.Read(ref _watchdogHolds);
    public bool IsEStopped { get { lock (_gate) return _estopped; } }
    public bool IsHolding { get { lock (_gate) return _holding; } }

    public PeerStatus Status { get { lock (_gate) return _estopped ? PeerStatus.EStopped : _holding ? PeerStatus.Holding : PeerStatus.Ok; } }

    /// <summary>The peer's clock, for transports that stamp received frames.</summary>
    public TimeProvider Time => _time;

    public void Start() => _ticker.Start();

    private long ToTimestamp(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    // Double, not integer, arithmetic: timestamps times 1e6 overflow a long after a few hours of uptime.
    private long ToMicros(long timestamp) => (long)(timestamp * (1e6 / _time.TimestampFrequency));

    public void OnFrame(in DecodedFrame frame, long receivedTicks)
    {
        switch (frame.Type)
        {
            case MessageType.Command:
                OnCommand(frame, receivedTicks);
                break;
            case MessageType.EStop:
                // Holding too, so the watchdog does not count (and announce as Holding) a hold the e-stop already made.
                lock (_gate) { _estopped = true; _holding = true; _backend.Apply(EeCommand.Hold); }
                LogEStop(_logger);
                _output.SendHeartbeat(PeerStatus.EStopped);
                break;
            case MessageType.Rearm:
                lock (_gate) _estopped = false;
                LogRearm(_logger);
                _output.SendHeartbeat(Status);
                break;
        }
    }

    private void OnCommand(in DecodedFrame frame, long receivedTicks)
    {
        if (!frame.TryReadCommand(out var command))
        {
            Interlocked.Increment(ref _rejected);
            _output.SendError(ErrorBadPayload, $"command {frame.Sequence}: payload of {frame.Payload.Length} bytes, expected {WireFrame.CommandPayloadSize}");
            return;
        }
        string outcome;
        ArmState state = default;
        uint applied = 0;
        lock (_gate)
        {
            if (_estopped) outcome = "dropped: e-stopped";
            else if (!command.IsFinite) outcome = "rejected: non-finite";
            else
            {
                outcome = _freshness.Check(frame.Sequence, frame.TimestampMicros, ToMicros(receivedTicks));
                if (ReferenceEquals(outcome, CommandFreshness.Fresh))
                {
                    state = _backend.Apply(command);
                    _lastApplied = applied = frame.Sequence;
                    _lastCommandTicks = receivedTicks;
                    _holding = false;
                }
            }
        }
        var ok = ReferenceEquals(outcome, CommandFreshness.Fresh);
        if (ok) Interlocked.Increment(ref _applied);
        else if (ReferenceEquals(outcome, CommandFreshness.Stale)) Interlocked.Increment(ref _stale);
        else if (ReferenceEquals(outcome, CommandFreshness.Duplicate)) Interlocked.Increment(ref _duplicates);
        else Interlocked.Increment(ref _rejected);
        CommandReceived?.Invoke(new ReceivedCommand(command, frame.Sequence, frame.TimestampMicros, receivedTicks, ok, outcome));
        if (ok) _output.SendState(state, applied);
        else
        {
            LogDropped(_logger, frame.Sequence, outcome);
            if (outcome.StartsWith("rejected", StringComparison.Ordinal)) _output.SendError(ErrorNonFinite, $"command {frame.Sequence}: {outcome}");
            else if (outcome.EndsWith("e-stopped", StringComparison.Ordinal)) _output.SendError(ErrorEStopped, $"command {frame.Sequence}: {outcome}");
        }
    }

    private void TickLoop()
    {
        var token = _stop.Token;
        var period = TimeSpan.FromMilliseconds(Math.Clamp(_options.StateInterval.TotalMilliseconds / 2, 1, 20));
        while (!token.WaitHandle.WaitOne(period))
        {
            try { Tick(); }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogTickFailed(_logger, e.Message);
            }
        }
    }

    /// <summary>
    /// One pass of the periodic work at the clock's current time: the watchdog (hold once when no command came for
    /// longer than <see cref="ArmServerOptions.Watchdog"/>), then state and heartbeat when their periods are due.
    /// The ticker thread calls it every few milliseconds; unit tests call it after advancing a manual clock.
    /// </summary>
    internal void Tick()
    {
        var now = _time.GetTimestamp();
        var fired = false;
        ArmState state;
        uint applied;
        lock (_gate)
        {
            if (!_holding && now - _lastCommandTicks > _watchdog)
            {
                _holding = true;
                _backend.Apply(EeCommand.Hold); // zero motion: for a velocity-style arm this is the stop
                fired = true;
            }
            state = _backend.CurrentState;
            applied = _lastApplied;
        }
        if (fired)
        {
            Interlocked.Increment(ref _watchdogHolds);
            LogWatchdog(_logger, _options.Watchdog.TotalMilliseconds);
            _output.SendHeartbeat(Status);
        }
        var first = !_tickedOnce;
        _tickedOnce = true;
        if (first || now - _lastStateTicks >= _stateEvery) { _output.SendState(state, applied); _lastStateTicks = now; }
        if (first || now - _lastBeatTicks >= _beatEvery) { _output.SendHeartbeat(Status); _lastBeatTicks = now; }
    }

    public void Dispose()
    {
        _stop.Cancel();
        if (_ticker.IsAlive) _ticker.Join(TimeSpan.FromSeconds(1));
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "arm server: command {Sequence} {Outcome}")]
    private static partial void LogDropped(ILogger logger, uint sequence, string outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "arm server: no command for {WatchdogMs} ms: holding")]
    private static partial void LogWatchdog(ILogger logger, double watchdogMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "arm server: E-STOP received: holding until re-armed")]
    private static partial void LogEStop(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "arm server: re-armed")]
    private static partial void LogRearm(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "arm server: periodic publish failed: {Message}")]
    private static partial void LogTickFailed(ILogger logger, string message);
}
