namespace RobotCtl.Episodes;

/// <summary>What <see cref="EpisodeRepair.Repair"/> found and did.</summary>
public sealed record EpisodeRepairReport
{
    public required string Path { get; init; }

    /// <summary>True when the file was an empty interrupted episode (nothing recorded) and was deleted with its -wal, -shm and lock.</summary>
    public bool DeletedEmpty { get; init; }

    /// <summary>Finished or crashed (a live recording is refused); null when deleted.</summary>
    public EpisodeState? State { get; init; }

    /// <summary>True when the write-ahead log left by a killed recorder was copied into the file now.</summary>
    public bool FoldedWal { get; init; }

    /// <summary>True when a stale lock file (its recorder died) was removed.</summary>
    public bool RemovedLock { get; init; }

    /// <summary>Rows per table, in schema order (empty when deleted).</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Rows { get; init; } = [];

    /// <summary>PRAGMA quick_check: "ok", or what SQLite found wrong; null when deleted.</summary>
    public string? Integrity { get; init; }
}
