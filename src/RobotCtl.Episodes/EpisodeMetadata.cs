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
