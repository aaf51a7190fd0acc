namespace RobotCtl.Core.Arm;

/// <summary>
/// What a link did with the commands it accepted: written to the wire, or superseded in its outgoing slot by a newer
/// command before its writer sent it (a latest-wins link under load). Links that write every command in TrySend
/// supersede none. The runtime records both when an episode closes.
/// </summary>
public interface IArmLinkTraffic
{
    long CommandsSent { get; }
    long CommandsSuperseded { get; }
}
