namespace RobotCtl.Episodes;

/// <summary>`robotctl episodes repair`: makes an episode left behind by a killed recorder one self-contained file.</summary>
public static class EpisodeRepair
{
    /// <summary>
    /// Folds the episode's WAL into the file and removes its stale lock (the only command that does: readers leave a
    /// crashed file as it is), then reports rows per table, whether it finished, and SQLite's quick_check. An empty interrupted episode (killed while
    /// being created: no metadata, no rows) is deleted, with its -wal, -shm and lock files: it holds nothing to keep, and
    /// a deleted file is plainer than one marked somehow. Throws <see cref="InvalidOperationException"/> for an episode a
    /// live process is recording or creating, <see cref="IOException"/> when the WAL could not be folded in, and
    /// <see cref="EpisodeFormatException"/> for a file that is not an episode (left untouched).
    /// </summary>
    public static EpisodeRepairReport Repair(string path)
    {
        EpisodeReader reader;
        try
        {
            reader = EpisodeReader.Open(path, fold: true);
        }
        catch (EmptyEpisodeException e) when (!e.BeingCreated)
        {
            using (EpisodeLock.Probe(path, out var lockState))
            {
                // Re-checked under the lock: a recorder of the same name cannot start while we hold it shared.
                if (lockState == LockState.Held) throw new InvalidOperationException($"episode {path} is being created by a live process; nothing repaired");
                foreach (var suffix in new[] { "", "-wal", "-shm", "-journal" }) File.Delete(path + suffix);
                if (lockState == LockState.Stale) EpisodeLock.RemoveStale(path);
            }
            return new EpisodeRepairReport { Path = path, DeletedEmpty = true };
        }
        catch (EmptyEpisodeException e)
        {
            throw new InvalidOperationException($"{e.Message}; nothing repaired", e);
        }
        using (reader)
        {
            if (reader.State == EpisodeState.Recording)
                throw new InvalidOperationException($"episode {path} is still being recorded by a live process; nothing repaired (repair it after the recording ends)");
            if (reader.Fold.Error is { } error || File.Exists(path + "-wal"))
                throw new IOException($"episode {path}: could not fold its write-ahead log into the file ({reader.Fold.Error ?? "the -wal file is still there"}); " +
                                      "the episode is readable as it is, keep the -wal and -shm files with it");
            var rows = EpisodeSchema.Tables.Concat(EpisodeSchema.OptionalTables)
                .Select(t => new KeyValuePair<string, long>(t, reader.Count(t))).ToArray();
            return new EpisodeRepairReport
            {
                Path = path, State = reader.State, FoldedWal = reader.Fold.Folded, RemovedLock = reader.Fold.LockRemoved, Rows = rows,
                Integrity = reader.QuickCheck(),
            };
        }
    }
}
