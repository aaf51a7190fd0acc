namespace RobotCtl.Episodes;

/// <summary>
/// One line of `episodes list`: either the episode's summary numbers or why the file could not be read. <see cref="State"/>
/// is set for a readable episode; <see cref="EmptyInterrupted"/> marks a file whose recorder was stopped while creating it
/// (<see cref="Error"/> says so; being created by a live process: <see cref="State"/> Recording with that message).
/// </summary>
/// <see cref="NotClosedCleanly"/> is the reader's (what a dead recorder left for `episodes repair`), null for a clean file.
public sealed record EpisodeListing(
    string Id, string Path, DateTimeOffset? StartTimeUtc, TimeSpan? Duration, long? Steps, bool? Success, string? Model, string? Error,
    EpisodeState? State = null, bool EmptyInterrupted = false, string? NotClosedCleanly = null);
