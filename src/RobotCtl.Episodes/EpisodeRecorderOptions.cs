namespace RobotCtl.Episodes;

public sealed record EpisodeRecorderOptions
{
    /// <summary>Records the queue holds before new ones are dropped (and counted as a gap).</summary>
    public int QueueCapacity { get; init; } = 4096;

    /// <summary>Frames copied but not yet written; a frame beyond this is dropped and counted (bounds memory).</summary>
    public int MaxFramesInFlight { get; init; } = 32;

    /// <summary>Most rows per transaction; the recorder also commits whenever the queue runs empty.</summary>
    public int MaxRowsPerCommit { get; init; } = 1024;

    /// <summary>PRAGMA synchronous=FULL (survives power loss) instead of NORMAL (survives a killed process).</summary>
    public bool SyncEveryCommit { get; init; }

    /// <summary>
    /// How often the writer copies committed rows from the -wal file into the .sqlite file (a PASSIVE checkpoint, on the
    /// writer task), so that the .sqlite file alone stays a valid episode at most this far behind; also done this long
    /// after the last commit when the queue runs idle. <see cref="TimeSpan.Zero"/> turns it off (SQLite then checkpoints
    /// only when the WAL reaches ~4 MB).
    /// </summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(1);

    public void Validate()
    {
        if (QueueCapacity < 1) throw new ArgumentException($"QueueCapacity: expected >= 1, found {QueueCapacity}");
        if (MaxFramesInFlight < 1) throw new ArgumentException($"MaxFramesInFlight: expected >= 1, found {MaxFramesInFlight}");
        if (MaxRowsPerCommit < 1) throw new ArgumentException($"MaxRowsPerCommit: expected >= 1, found {MaxRowsPerCommit}");
        if (CheckpointInterval < TimeSpan.Zero) throw new ArgumentException($"CheckpointInterval: expected >= 0, found {CheckpointInterval}");
    }
}
