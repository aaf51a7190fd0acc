using System.Diagnostics;

namespace RobotCtl.Episodes;

/// <summary>The export script could not run or refused the input; the message is meant for the user as is.</summary>
public sealed class Hdf5ExportException(string message) : Exception(message);

/// <summary>
/// HDF5 export in the stable-worldmodel layout (pixels, action, proprio, ep_len, ep_offset), done by
/// tools/episodes/export_hdf5.py under Debian's /usr/bin/python3 with python3-h5py, python3-numpy and python3-pil
/// (.NET has no HDF5 writer here). This class finds the script, runs it and turns its failures into clear errors.
/// </summary>
public static class Hdf5Exporter
{
    public const string DefaultPython = "/usr/bin/python3";
    public const string ScriptRelativePath = "tools/episodes/export_hdf5.py";

    /// <summary>
    /// The script under $ROBOTCTL_HOME, else under the first ancestor of <paramref name="startDirectory"/> (default: the
    /// app's base directory) that contains it. Null when not found.
    /// </summary>
    public static string? FindScript(string? startDirectory = null)
    {
        var home = Environment.GetEnvironmentVariable("ROBOTCTL_HOME");
        if (!string.IsNullOrEmpty(home) && File.Exists(Path.Combine(home, ScriptRelativePath))) return Path.Combine(home, ScriptRelativePath);
        for (var dir = new DirectoryInfo(startDirectory ?? AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, ScriptRelativePath);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Prefix of the script's progress lines on stderr (relayed to <c>progress</c>, never part of an error).</summary>
    public const string ProgressPrefix = "export_hdf5: progress ";

    /// <summary>
    /// Runs the export; returns the script's one-line JSON report. Throws <see cref="Hdf5ExportException"/>.
    /// <paramref name="size"/> ("WxH") downsamples every frame by area averaging; <paramref name="progress"/> receives the
    /// script's progress lines (rows done / total) as they come. A directory among the paths stands for its *.sqlite
    /// files sorted by name. Nothing is left at <paramref name="outputPath"/> (nor a .partial file) when the export fails.
    /// An output path that is a directory, or whose directory does not exist, is an <see cref="ArgumentException"/>.
    /// </summary>
    public static string Export(IReadOnlyList<string> episodePaths, string outputPath, string? scriptPath = null, string python = DefaultPython,
        TimeSpan? timeout = null, string? size = null, Action<string>? progress = null)
    {
        // The script would write FILE.partial and fail only when renaming it: refuse a bad output path first.
        var fullOutput = Path.GetFullPath(outputPath);
        if (Directory.Exists(fullOutput)) throw new ArgumentException($"--out {outputPath}: is a directory, expected a file path");
        if (Path.GetDirectoryName(fullOutput) is { } parent && !Directory.Exists(parent))
            throw new ArgumentException($"--out {outputPath}: directory {parent} does not exist");
        scriptPath ??= FindScript() ?? throw new Hdf5ExportException(
            $"HDF5 export needs {ScriptRelativePath}: not found under $ROBOTCTL_HOME or above {AppContext.BaseDirectory}");
        if (!File.Exists(python))
            throw new Hdf5ExportException($"HDF5 export needs {python}, which does not exist (Debian: apt-get install python3 python3-numpy python3-h5py python3-pil)");

        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(scriptPath);
        foreach (var p in episodePaths) start.ArgumentList.Add(p);
        start.ArgumentList.Add("--out");
        start.ArgumentList.Add(outputPath);
        if (size is not null)
        {
            start.ArgumentList.Add("--size");
            start.ArgumentList.Add(size);
        }
        using var process = new Process { StartInfo = start };
        // stderr line by line: progress goes out as it comes, everything else is the error message.
        var errors = new List<string>();
        var errorsDone = new TaskCompletionSource();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) { errorsDone.TrySetResult(); return; }
            if (e.Data.StartsWith(ProgressPrefix, StringComparison.Ordinal)) progress?.Invoke(e.Data[ProgressPrefix.Length..]);
            else lock (errors) errors.Add(e.Data);
        };
        if (!process.Start()) throw new Hdf5ExportException($"could not start {python}");
        process.BeginErrorReadLine();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(30)))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            // A kill can beat the script's own cleanup.
            try { File.Delete(outputPath + ".partial"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw new Hdf5ExportException($"HDF5 export of {Describe(episodePaths)} did not finish in time; stopped");
        }
        process.WaitForExit(); // drains the redirected streams
        errorsDone.Task.Wait(TimeSpan.FromSeconds(5));
        string error;
        lock (errors) error = string.Join("\n", errors).Trim();
        // The script removes its partial file on failure; this covers a crash it could not catch.
        if (process.ExitCode != 0) { try { File.Delete(outputPath + ".partial"); } catch (IOException) { } catch (UnauthorizedAccessException) { } }
        return process.ExitCode switch
        {
            0 => stdout.Result.Trim(),
            2 or 3 => throw new Hdf5ExportException(error),
            var code => throw new Hdf5ExportException($"HDF5 export failed ({python} {scriptPath} exited with {code}): {LastLines(error, 5)}"),
        };
    }

    private static string Describe(IReadOnlyList<string> paths) =>
        paths.Count <= 3 ? string.Join(", ", paths) : $"{paths[0]} and {paths.Count - 1} more";

    private static string LastLines(string text, int n) => string.Join("\n", text.Split('\n').TakeLast(n));
}
