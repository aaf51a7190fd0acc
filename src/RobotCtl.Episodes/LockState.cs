namespace RobotCtl.Episodes;

/// <summary>What a reader learns from an episode's lock file (<c>&lt;episode&gt;.sqlite.lock</c>).</summary>
internal enum LockState
{
    /// <summary>No lock file: the recorder finished (it removes the file), or the episode was copied without it.</summary>
    Absent,

    /// <summary>A lock file nobody holds: its recorder died without finishing (kill -9, crash, power loss).</summary>
    Stale,

    /// <summary>A live process holds it: the episode is being created or recorded.</summary>
    Held,
}
