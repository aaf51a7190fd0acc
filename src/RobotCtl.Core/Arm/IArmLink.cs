namespace RobotCtl.Core.Arm;

/// <summary>
/// A connection to an arm (LeRobot's connect / observe / send / disconnect). Implementations: serial, MQTT,
/// the in-process simulated arm. Every command reaching an implementation has already passed the
/// safety governor; links only transport.
/// </summary>
public interface IArmLink : IAsyncDisposable
{
    /// <summary>A short human-readable description, e.g. "serial /dev/ttyUSB0 @ 115200".</summary>
    string Description { get; }

    ArmLinkStatus Status { get; }

    /// <summary>Opens the transport. Reconnection after a loss is the link's own job.</summary>
    Task ConnectAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Sends one command now. Returns false when it could not be handed to the transport (link down);
    /// a link never queues commands to burst them out later.
    /// </summary>
    bool TrySend(in EeCommand command);

    /// <summary>The latest state received, if any (check its timestamp for staleness).</summary>
    bool TryGetLatestState(out ArmState state);

    /// <summary>Raised (on a link thread) for connection changes, faults and peer errors.</summary>
    event Action<ArmLinkEvent>? EventRaised;
}
