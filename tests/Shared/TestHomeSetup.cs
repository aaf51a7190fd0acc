using System.Runtime.CompilerServices;
using RobotCtl.Runtime.Composition;

namespace RobotCtl.Tests.Shared;

/// <summary>
/// The tests' robotctl home, chosen as the host chooses it before anything runs: ROBOTCTL_HOME (scripts/test exports
/// it), else this checkout (the test assembly sits under it).
/// </summary>
internal static class TestHomeSetup
{
    [ModuleInitializer]
    internal static void UseCheckout()
    {
        var home = Environment.GetEnvironmentVariable(RobotCtlHome.EnvironmentVariable);
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (string.IsNullOrEmpty(home) && dir is not null)
        {
            if (File.Exists(Path.Combine(dir.FullName, "robotctl.sln"))) home = dir.FullName;
            dir = dir.Parent;
        }
        RobotCtlHome.Use(home ?? throw new InvalidOperationException("the tests run from a robotctl checkout or with ROBOTCTL_HOME set"));
    }
}
