using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RobotCtl.Core.Arm;
using RobotCtl.Hardware.Protocol;

namespace RobotCtl.Hardware.Links;

/// <summary>
/// The controller's end of an arm link over a transport that connects and reconnects on its own thread: the shared
/// <see cref="LinkState"/> (status, latest state, peer status, counters), a transport started on the first
/// <see cref="ConnectAsync"/> that waits for its first connection, and the e-stop frames. A transport reports its
/// connection through <see cref="ReportOnline"/> and <see cref="ReportLost"/>.
/// </summary>
public abstract class ReconnectingArmLink : IArmLink, IArmEStop, IArmLinkTraffic
{
    private readonly TaskCompletionSource _firstConnection = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TimeSpan _connectTimeout;
    private int _started;

    private protected ReconnectingArmLink(TimeSpan connectTimeout, ILogger? logger)
    {
        _connectTimeout = connectTimeout;
        Logger = logger ?? NullLogger.Instance;
    }

    private protected LinkState State { get; } = new();
    private protected ILogger Logger { get; }

    public abstract string Description { get; }
    public ArmLinkStatus Status => State.Status;
    public event Action<ArmLinkEvent>? EventRaised { add => State.EventRaised += value; remove => State.EventRaised -= value; }

    public long CommandsSent => State.CommandsSent;
    /// <summary>Accepted commands a newer one replaced before they were written (see <see cref="IArmLinkTraffic"/>).</summary>
    public virtual long CommandsSuperseded => 0;
    public long StatesReceived => State.StatesReceived;
    /// <summary>The arm's own report from its last heartbeat.</summary>
    public PeerStatus PeerStatus => State.PeerStatus;

    /// <summary>Starts the transport on the first call; every call waits for the first connection, up to the link's connect timeout.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            State.SetStatus(ArmLinkStatus.Connecting, Connecting);
            StartTransport();
        }
        try
        {
            await _firstConnection.Task.WaitAsync(_connectTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new ArmLinkException($"{Description}: {NotConnected} within {_connectTimeout.TotalSeconds:0.#} s: {LastTransportError}");
        }
    }

    public abstract bool TrySend(in EeCommand command);

    /// <summary>Sends an e-stop frame now (the peer latches hold until <see cref="SendRearm"/>).</summary>
    public bool SendEStop() => SendControl(MessageType.EStop);

    public bool SendRearm() => SendControl(MessageType.Rearm);

    public bool TryGetLatestState(out ArmState state) => State.TryGetLatest(out state);

    public ValueTask DisposeAsync()
    {
        StopTransport();
        State.SetStatus(ArmLinkStatus.Disconnected, $"{Description}: closed");
        return ValueTask.CompletedTask;
    }

    /// <summary>The status message while the transport makes its first connection.</summary>
    private protected abstract string Connecting { get; }

    /// <summary>What a connect timeout reports, before "within N s" (e.g. "no connection").</summary>
    private protected abstract string NotConnected { get; }

    /// <summary>The transport's last failure, for the connect timeout's message.</summary>
    private protected abstract string LastTransportError { get; }

    private protected abstract void StartTransport();

    private protected abstract void StopTransport();

    /// <summary>Sends an EStop or Rearm frame now; false when the transport could not take it.</summary>
    private protected abstract bool SendControl(MessageType type);

    /// <summary>The transport is connected (again); the first time, <see cref="ConnectAsync"/> returns.</summary>
    private protected void ReportOnline(string message)
    {
        State.SetStatus(ArmLinkStatus.Online, message);
        _firstConnection.TrySetResult();
    }

    private protected void ReportLost(string message) => State.SetStatus(ArmLinkStatus.Disconnected, message);
}
