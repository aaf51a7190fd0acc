namespace RobotCtl.Runtime;

/// <summary>What the runtime does about a surprise.</summary>
public enum SurpriseAction { None, Replan, Pause, Stop }
