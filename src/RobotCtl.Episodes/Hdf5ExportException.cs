namespace RobotCtl.Episodes;

/// <summary>The export cannot be done: bad input found while exporting, or the output cannot be written. The message is meant for the user as is.</summary>
public sealed class Hdf5ExportException(string message, Exception? inner = null) : Exception(message, inner);
