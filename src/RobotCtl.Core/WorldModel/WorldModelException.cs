namespace RobotCtl.Core.WorldModel;

/// <summary>A model that cannot be used, with what is wrong, where, and what was expected versus found.</summary>
public sealed class WorldModelException(string message, Exception? inner = null) : Exception(message, inner);
