namespace RobotCtl.Hardware.Links;

/// <summary>A link could not be established (the message names the transport and the native error).</summary>
public sealed class ArmLinkException(string message, Exception? inner = null) : IOException(message, inner);
