using RobotCtl.Runtime.Composition;

namespace RobotCtl.Host.Composition;

/// <summary>
/// Where robotctl's home is, decided once at start: ROBOTCTL_HOME (the launcher exports it), else the checkout the
/// executable or the current directory is in (the folder with robotctl.sln), else the current directory.
/// </summary>
internal static class HomeFolder
{
    public static string Find()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(RobotCtlHome.EnvironmentVariable);
        if (!string.IsNullOrEmpty(fromEnvironment) && Directory.Exists(fromEnvironment)) return Path.GetFullPath(fromEnvironment);
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            if (CheckoutAbove(start) is { } checkout) return checkout;
        return Directory.GetCurrentDirectory();
    }

    private static string? CheckoutAbove(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "robotctl.sln"))) return dir.FullName;
        return null;
    }
}
