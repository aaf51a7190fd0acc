namespace RobotCtl.Hardware;

/// <summary>A configuration file is missing or wrong; the message names the file, the field, what was expected and found.</summary>
public sealed class ConfigException(string message, Exception? inner = null) : Exception(message, inner);
