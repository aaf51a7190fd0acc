namespace RobotCtl.Episodes;

/// <summary>
/// An episode file with nothing in it: its recorder was stopped while creating it, before the schema and metadata
/// were written (a zero-byte file, or one with the episode's application id and no tables). The message starts
/// "empty interrupted episode: PATH:", or "episode being created: PATH:" when <see cref="BeingCreated"/>.
/// </summary>
public sealed class EmptyEpisodeException(string message, bool beingCreated) : EpisodeFormatException(message)
{
    /// <summary>True when the creating process is alive (holds the lock): the file is new, not interrupted.</summary>
    public bool BeingCreated { get; } = beingCreated;
}
