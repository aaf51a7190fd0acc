using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RobotCtl.Core.Arm;
using RobotCtl.Hardware.Links;
using RobotCtl.Hardware.Protocol;

namespace RobotCtl.Hardware.Servers;

/// <summary>
/// An arm-side server whatever its transport: the protocol peer (<see cref="ArmPeer"/>) over a backend, its counters,
/// and the state, heartbeat and error frames it sends, numbered by the server's own sequence. A transport supplies how
/// a frame goes out and how the transport starts and stops.
/// </summary>
public abstract class ArmServer : IAsyncDisposable, IPeerOutput
{
    private readonly Lock _sendGate = new(); // the frame buffer and the sequence are shared by the peer's threads
    private readonly byte[] _frame = new byte[WireFrame.MaxFrameSize];
    private uint _sequence;

    /// <param name="name">Names the peer's ticker thread.</param>
    /// <param name="time">The arm side's clock (watchdog, publish periods, command freshness); default the system's.</param>
    private protected ArmServer(IArmBackend backend, ArmServerOptions? options, ILogger? logger, string name, TimeProvider? time)
    {
        ArgumentNullException.ThrowIfNull(backend);
        Logger = logger ?? NullLogger.Instance;
        Peer = new ArmPeer(backend, options ?? new ArmServerOptions(), Logger, this, name, time);
    }

    private protected ArmPeer Peer { get; }
    private protected ILogger Logger { get; }

    /// <summary>Every command frame that arrived, with what was done with it (on the transport's thread).</summary>
    public event Action<ReceivedCommand>? CommandReceived { add => Peer.CommandReceived += value; remove => Peer.CommandReceived -= value; }

    public abstract string Description { get; }
    public long CommandsApplied => Peer.Applied;
    public long CommandsDroppedStale => Peer.DroppedStale;
    public long CommandsDroppedDuplicate => Peer.DroppedDuplicate;
    public long CommandsRejected => Peer.Rejected;
    public long WatchdogHolds => Peer.WatchdogHolds;
    public bool IsHolding => Peer.IsHolding;
    public bool IsEStopped => Peer.IsEStopped;

    /// <summary>Starts serving; the transport connects (and reconnects) in the background.</summary>
    public void Start()
    {
        StartTransport();
        Peer.Start();
    }

    private protected abstract void StartTransport();

    /// <summary>Hands one encoded frame of <paramref name="type"/> to the transport; called under the send lock.</summary>
    private protected abstract void Send(ReadOnlySpan<byte> frame, MessageType type);

    /// <summary>Closes the transport once the peer has stopped sending.</summary>
    private protected abstract ValueTask StopTransportAsync();

    void IPeerOutput.SendState(in ArmState state, uint lastAppliedSequence)
    {
        lock (_sendGate)
        {
            var n = WireFrame.EncodeState(_frame, ++_sequence, LinkState.NowMicros(), state, lastAppliedSequence);
            Send(_frame.AsSpan(0, n), MessageType.State);
        }
    }

    void IPeerOutput.SendHeartbeat(PeerStatus status)
    {
        lock (_sendGate)
        {
            var n = WireFrame.EncodeHeartbeat(_frame, ++_sequence, LinkState.NowMicros(), status);
            Send(_frame.AsSpan(0, n), MessageType.Heartbeat);
        }
    }

    void IPeerOutput.SendError(ushort code, string message)
    {
        lock (_sendGate)
        {
            var n = WireFrame.EncodeError(_frame, ++_sequence, LinkState.NowMicros(), code, message);
            Send(_frame.AsSpan(0, n), MessageType.Error);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Peer.Dispose();
        await StopTransportAsync().ConfigureAwait(false);
    }
}
