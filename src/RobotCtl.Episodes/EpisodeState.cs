namespace RobotCtl.Episodes;

/// <summary>How an episode stands: finished, still being recorded by a live process, or ended without its end marker.</summary>
public enum EpisodeState
{
    /// <summary>The recorder completed: the end marker (end time, outcome) is in the file.</summary>
    Finished,

    /// <summary>No end marker, and a live process holds the episode's lock: it is being recorded now.</summary>
    Recording,

    /// <summary>No end marker and nobody holds the lock: the recorder was killed, crashed or its writer failed.</summary>
    Crashed,
}
