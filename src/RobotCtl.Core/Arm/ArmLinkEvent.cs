namespace RobotCtl.Core.Arm;

public readonly record struct ArmLinkEvent(ArmLinkStatus Status, string Message, long TimestampTicks);
