using RobotCtl.Runtime.Composition;

namespace RobotCtl.Runtime.Tests;

/// <summary>The repository as the tests' robotctl home: its calibration and example models.</summary>
internal static class RuntimeTestHome
{
    public static string Root => RobotCtlHome.Path;

    public static string SmallModel => Path.Combine(Root, "models", "examples", "lewm-small");
}
