using RobotCtl.Core.Arm;
using RobotCtl.Core.Timing;
using RobotCtl.Hardware.Protocol;

namespace RobotCtl.Hardware.Links;

/// <summary>
/// The controller-side bookkeeping every transport shares: status and its events, the latest state (stamped with
/// the local receive time), peer heartbeat status, sequence numbers and counters.
/// </summary>
internal sealed class LinkState
{
    private readonly Lock _gate = new();
    private ArmState _latest;
    private bool _hasState;
    private ArmLinkStatus _status = ArmLinkStatus.Disconnected;
    private uint _sequence = (uint)Random.Shared.Next(); // random start: a restarted controller is never mistaken for a replay
    private long _statesReceived, _commandsSent, _peerErrors;

    public event Action<ArmLinkEvent>? EventRaised;

    public ArmLinkStatus Status { get { lock (_gate) return _status; } }
    public PeerStatus PeerStatus { get; private set; }
    public uint LastAppliedBySeq { get; private set; }
    public long StatesReceived => Interlocked.Read(ref _statesReceived);
    public long CommandsSent => Interlocked.Read(ref _commandsSent);
    public long PeerErrors => Interlocked.Read(ref _peerErrors);

    public uint NextSequence() => Interlocked.Increment(ref _sequence);

    public void CountSent() => Interlocked.Increment(ref _commandsSent);

    public void SetStatus(ArmLinkStatus status, string message)
    {
        lock (_gate)
        {
            if (_status == status) return;
            _status = status;
        }
        Raise(status, message);
    }

    public void Raise(ArmLinkStatus status, string message) => EventRaised?.Invoke(new ArmLinkEvent(status, message, MonotonicClock.Now));

    public bool TryGetLatest(out ArmState state)
    {
        lock (_gate)
        {
            state = _latest;
            return _hasState;
        }
    }

    /// <summary>Handles the peer's frames (state, heartbeat, error); others are ignored.</summary>
    public void OnPeerFrame(in DecodedFrame frame, long receivedTicks)
    {
        switch (frame.Type)
        {
            case MessageType.State when frame.TryReadState(receivedTicks, out var state, out var lastApplied):
                lock (_gate) { _latest = state; _hasState = true; }
                LastAppliedBySeq = lastApplied;
                Interlocked.Increment(ref _statesReceived);
                break;
            case MessageType.Heartbeat when frame.TryReadHeartbeat(out var peer):
                if (peer != PeerStatus) Raise(Status, $"peer reports {peer}");
                PeerStatus = peer;
                break;
            case MessageType.Error when frame.TryReadError(out var code, out var text):
                Interlocked.Increment(ref _peerErrors);
                Raise(Status, $"peer error {code}: {text}");
                break;
        }
    }

    /// <summary>Microseconds on the local monotonic clock: the frame timestamp.</summary>
    public static ulong NowMicros() => (ulong)(MonotonicClock.Now * 1_000_000.0 / System.Diagnostics.Stopwatch.Frequency);
}
