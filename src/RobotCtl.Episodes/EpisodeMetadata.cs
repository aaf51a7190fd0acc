using System.Reflection;

namespace RobotCtl.Episodes;

/// <summary>What an episode was run with; written once when the recorder creates the file.</summary>
public sealed record EpisodeMetadata
{
    /// <summary>Where commands went: "sim", "serial", "mqtt" (part of the episode id).</summary>
    public required string Source { get; init; }

    /// <summary>Model package (name or path and version).</summary>
    public string? Model { get; init; }

    /// <summary>Calibration used (path or name).</summary>
    public string? Calibration { get; init; }

    /// <summary>The effective configuration, as JSON text.</summary>
    public string? ConfigurationJson { get; init; }

    public string RobotctlVersion { get; init; } = DefaultVersion();

    /// <summary>Wall-clock start, for humans and for MCAP timestamps; everything else uses monotonic ticks.</summary>
    public DateTimeOffset StartTimeUtc { get; init; } = DateTimeOffset.UtcNow;

    public long? Seed { get; init; }

    /// <summary>Goal descriptions (e.g. goal image paths), in sub-goal order.</summary>
    public IReadOnlyList<string> Goals { get; init; } = [];

    private static string DefaultVersion() =>
        typeof(EpisodeMetadata).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}

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
