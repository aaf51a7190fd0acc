namespace RobotCtl.Episodes;

/// <summary>An episode's metadata as read back, with how it ended (null fields: the recorder never finished).</summary>
public sealed record EpisodeInfo
{
    public required string Id { get; init; }
    public required string Path { get; init; }
    public required int SchemaVersion { get; init; }
    public required string Source { get; init; }
    public string? Model { get; init; }
    public string? Calibration { get; init; }
    public string? ConfigurationJson { get; init; }
    public required string RobotctlVersion { get; init; }
    public required DateTimeOffset StartTimeUtc { get; init; }
    public long? Seed { get; init; }
    public required IReadOnlyList<string> Goals { get; init; }

    /// <summary>Stopwatch frequency of the recording machine: converts the rows' ticks to time.</summary>
    public required long TickFrequency { get; init; }
    public required long StartTicks { get; init; }

    public DateTimeOffset? EndTimeUtc { get; init; }
    public long? EndTicks { get; init; }
    public bool? Success { get; init; }
    public string? Outcome { get; init; }

    /// <summary>Records dropped because the queue was full (also recorded as gap events).</summary>
    public long? DroppedRecords { get; init; }

    public double TicksToMs(long ticks) => ticks * 1000.0 / TickFrequency;
}
