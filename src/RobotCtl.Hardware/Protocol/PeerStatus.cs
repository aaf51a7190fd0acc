namespace RobotCtl.Hardware.Protocol;

/// <summary>What the arm side reports in its heartbeat.</summary>
public enum PeerStatus : byte { Ok = 0, Holding = 1, EStopped = 2 }
