namespace RobotCtl.Core.Arm;

/// <summary>Link health as the runtime sees it.</summary>
public enum ArmLinkStatus { Disconnected, Connecting, Online, Faulted }
