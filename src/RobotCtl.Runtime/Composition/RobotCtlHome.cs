namespace RobotCtl.Runtime.Composition;

/// <summary>
/// The robotctl home: the folder that holds appsettings.json, models/, calibration/ and hardware/. Which folder that
/// is, is the host's decision (robotctl's: ROBOTCTL_HOME, else the checkout it runs from), made once with
/// <see cref="Use"/> before anything is composed; the runtime only resolves relative paths against it.
/// </summary>
public static class RobotCtlHome
{
    public const string EnvironmentVariable = "ROBOTCTL_HOME";

    private static string? _path;

    /// <summary>The home the host chose; throws when it has not chosen one (a library must not guess).</summary>
    public static string Path => _path ?? throw new InvalidOperationException(
        "no robotctl home: the host chooses the folder that holds appsettings.json, models/ and calibration/ (RobotCtlHome.Use) before composing a run");

    /// <summary>Sets the home (an existing folder) for the rest of the process.</summary>
    public static void Use(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"robotctl home {path}: no such folder");
        _path = System.IO.Path.GetFullPath(path);
    }

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
}
