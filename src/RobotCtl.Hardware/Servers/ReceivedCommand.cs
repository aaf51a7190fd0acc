namespace RobotCtl.Hardware.Servers;

/// <summary>What happened to one command frame that reached the peer (raised on the receiving thread).</summary>
public readonly record struct ReceivedCommand(
    RobotCtl.Core.Arm.EeCommand Command, uint Sequence, ulong SenderMicros, long ReceivedTicks, bool Applied, string Outcome);
