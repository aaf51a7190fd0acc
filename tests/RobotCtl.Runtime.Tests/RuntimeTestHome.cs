using RobotCtl.Runtime.Composition;

namespace RobotCtl.Runtime.Tests;

/// <summary>The repository as the tests' robotctl home: its calibration, example models, and a small recorded sim run.</summary>
internal static class RuntimeTestHome
{
    public static string Root => RobotCtlHome.Path;

    public static string SmallModel => Path.Combine(Root, "models", "examples", "lewm-small");

    /// <summary>
    /// A small recorded sim run (as Host.Tests' TestHome.SmallRun, without the CLI): the random-weight LeWM model (or
    /// <paramref name="model"/>), few samples, no deadline, so replay must reproduce every plan bit for bit; one block per
    /// plan, as the recorded fixtures (tests/fixtures/context-frames-1) were made.
    /// </summary>
    public static SettingsOverrides SmallRun(string episodes, int steps = 4, string? model = null) => new()
    {
        Sim = true, Model = model ?? SmallModel, RecordTo = episodes, MaxSteps = steps, Samples = 48, Iterations = 3, Seed = 11,
        SimScene = "seed=7,ee=-0.12:-0.12:0.03",
        Sets = ["Planner:DeadlineMs=", "Runtime:CommandRateHz=50", "Runtime:SuccessThreshold=0", "Runtime:ExecuteBlocks=1"],
    };
}
