namespace RobotCtl.Host.Commands;

/// <summary>
/// Output paths proved writable before any work, so that a path that cannot be written (a read-only mount, /proc, a
/// file where a directory is expected) fails at once with one line naming its option, not as "not found" at the end.
/// </summary>
internal static class OutputPaths
{
    /// <summary>
    /// A file can be written at <paramref name="path"/>: not a directory, its parent exists (or, with
    /// <paramref name="createParent"/>, is made) and takes a new file, and an existing file opens for writing (unchanged).
    /// </summary>
    public static void RequireWritableFile(string option, string path, bool createParent = false)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new ArgumentException($"{option} {path}: is a directory, expected a file path");
        var parent = Path.GetDirectoryName(full)!;
        if (File.Exists(parent))
            throw new ArgumentException($"{option} {path}: {parent} is a file, not a directory");
        if (!Directory.Exists(parent) && !createParent)
            throw new ArgumentException($"{option} {path}: directory {parent} does not exist");
        Probe(option, path, () =>
        {
            Directory.CreateDirectory(parent);
            if (File.Exists(full)) File.Open(full, FileMode.Open, FileAccess.Write).Dispose();
            else ProbeDirectory(parent);
        });
    }

    /// <summary>The directory exists (made if missing) and takes a new file.</summary>
    public static void RequireWritableDirectory(string option, string directory)
    {
        var full = Path.GetFullPath(directory);
        // CreateDirectory on an existing file says "already exists", which reads as if the directory were the problem.
        if (File.Exists(full)) throw new ArgumentException($"{option} {directory}: is a file, expected a directory");
        Probe(option, directory, () =>
        {
            Directory.CreateDirectory(full);
            ProbeDirectory(full);
        });
    }

    private static void ProbeDirectory(string directory)
    {
        var probe = Path.Combine(directory, $".robotctl-write-test-{Environment.ProcessId}");
        File.WriteAllBytes(probe, []);
        File.Delete(probe);
    }

    private static void Probe(string option, string path, Action probe)
    {
        try
        {
            probe();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"{option} {path}: cannot write there ({e.Message.ReplaceLineEndings(" ")})", e);
        }
    }
}
