namespace RobotCtl.Episodes;

/// <summary>A file that is not a readable robotctl episode. The message names the file and what is wrong.</summary>
public class EpisodeFormatException(string message, Exception? inner = null) : Exception(message, inner);
