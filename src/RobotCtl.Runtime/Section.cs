namespace RobotCtl.Runtime;

/// <summary>The timed sections of one control cycle (ARCHITECTURE.md).</summary>
public enum Section { Capture, Preprocess, Encode, Plan, Send, Record }
