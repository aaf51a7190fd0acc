namespace RobotCtl.Episodes;

/// <summary>
/// "Is anyone still recording this episode?" across processes: the recorder holds an exclusive advisory lock on
/// <c>&lt;episode&gt;.sqlite.lock</c> from before it creates the episode file until the file is finished. .NET takes it
/// with flock(LOCK_EX) on Unix (a FileShare.None open) and a share mode on Windows; the kernel drops it when the process
/// dies, however it dies, so a lock file that can be taken means its recorder is gone. Readers probe with a shared lock
/// (LOCK_SH), so two readers never mistake each other for a recorder. The lock is a separate file because SQLite's own
/// locks are fcntl locks on the database files, which SQLite expects to own.
/// </summary>
internal static class EpisodeLock
{
    public const string Suffix = ".lock";

    public static string PathFor(string episodePath) => episodePath + Suffix;

    /// <summary>
    /// The recorder's lock, held until disposed; disposing removes the file. A stale file (a killed recorder of the
    /// same name) is taken over. Returns null, with the error, when it cannot be taken: usually another live process
    /// holds it (a sharing violation), but .NET does not tell that apart from other I/O errors portably.
    /// </summary>
    public static FileStream? TryAcquire(string episodePath, out IOException? error)
    {
        error = null;
        try
        {
            return new FileStream(PathFor(episodePath), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            error = e;
            return null;
        }
    }

    /// <summary>
    /// Probes the lock. When it is <see cref="LockState.Stale"/> the returned stream holds a shared lock on it, so no
    /// recorder can take it while the caller repairs the episode; dispose it when done. Null otherwise.
    /// </summary>
    public static FileStream? Probe(string episodePath, out LockState state)
    {
        try
        {
            // FileShare other than None makes .NET take flock(LOCK_SH | LOCK_NB): it fails at once while a recorder holds LOCK_EX.
            var shared = new FileStream(PathFor(episodePath), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
            state = LockState.Stale;
            return shared;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            state = LockState.Absent;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The sharing violation of a held lock. An unreadable lock file also lands here: not knowing, assume a
            // live recorder, which only means the reader leaves the file alone.
            state = LockState.Held;
        }
        return null;
    }

    /// <summary>Removes a stale lock file the caller holds (from <see cref="Probe"/>); false when it could not.</summary>
    public static bool RemoveStale(string episodePath)
    {
        try
        {
            File.Delete(PathFor(episodePath));
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
