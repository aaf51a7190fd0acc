namespace RobotCtl.Runtime.Composition;

/// <summary>
/// The robotctl home: the repository root that holds appsettings.json, models/, calibration/ and hardware/.
/// The launcher exports ROBOTCTL_HOME; otherwise it is found by walking up from the executable or the current
/// directory. Relative paths in configuration are resolved against it (after the current directory).
/// </summary>
public static class RobotCtlHome
{
    public const string EnvironmentVariable = "ROBOTCTL_HOME";

    private static readonly Lazy<string> _path = new(Find);

    public static string Path => _path.Value;

    /// <summary>
    /// Resolves a user path: absolute as is; relative to the current directory if it exists there (what a user
    /// typing it expects), else relative to the home (what configuration means).
    /// </summary>
    public static string Resolve(string path)
    {
        if (System.IO.Path.IsPathRooted(path)) return path;
        var cwd = System.IO.Path.GetFullPath(path);
        if (File.Exists(cwd) || Directory.Exists(cwd)) return cwd;
        return System.IO.Path.GetFullPath(System.IO.Path.Combine(Path, path));
    }

    private static string Find()
    {
        var fromEnv = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(fromEnv) && Directory.Exists(fromEnv)) return System.IO.Path.GetFullPath(fromEnv);
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(System.IO.Path.Combine(dir.FullName, "robotctl.sln"))) return dir.FullName;
        }
        return Directory.GetCurrentDirectory();
    }
}
