using RobotCtl.Core.Arm;
using RobotCtl.Hardware.Protocol;

namespace RobotCtl.Hardware.Servers;

/// <summary>How the peer logic talks back over its transport.</summary>
internal interface IPeerOutput
{
    void SendState(in ArmState state, uint lastAppliedSequence);
    void SendHeartbeat(PeerStatus status);
    void SendError(ushort code, string message);
}
