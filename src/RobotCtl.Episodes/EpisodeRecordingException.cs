namespace RobotCtl.Episodes;

/// <summary>The recorder's writer failed; the message says why and where.</summary>
public sealed class EpisodeRecordingException(string message, Exception inner) : Exception(message, inner);
