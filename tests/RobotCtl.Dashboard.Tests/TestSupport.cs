using System.Diagnostics;
using RobotCtl.Core.Vision;
using RobotCtl.Host.Commands;
using RobotCtl.Runtime.Composition;
using RobotCtl.Sim;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Dashboard.Tests;

/// <summary>Fixtures: a temporary directory, a goal image, a small sim run, waiting on conditions.</summary>
internal static class TestSupport
{
    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    public static string Root => RobotCtlHome.Path;

    public sealed class TempDir : IDisposable
    {
        public TempDir() => Directory.CreateDirectory(Path);

        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "robotctl-dash-" + Guid.NewGuid().ToString("N")[..8]);

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Renders a sim scene and saves it as a PNG goal image.</summary>
    public static string GoalImage(string directory, string scene = "seed=7,ee=0.1:0.08:0.03", int size = 224)
    {
        var frame = new Frame(size, size);
        new SimRenderer(new SimRenderOptions { Width = size, Height = size }).Render(new SimWorkcell(SimSceneOptions.Parse(scene)), frame);
        var path = System.IO.Path.Combine(directory, "goal.png");
        ImageIo.SavePng(path, frame);
        return path;
    }

    /// <summary>The host tests' small sim run (random-weight LeWM model, few samples), recorded into <paramref name="episodes"/>.</summary>
    public static RunRequest SmallRun(string goal, string episodes, int steps) => new()
    {
        Goals = [goal],
        Sim = true,
        Model = Path.Combine(Root, "models", "examples", "lewm-small"),
        Record = episodes,
        MaxSteps = steps,
        Samples = 48,
        Iterations = 3,
        Seed = 11,
        SimScene = "seed=7,ee=-0.12:-0.12:0.03",
        Quiet = true,
        Sets = ["Planner:DeadlineMs=", "Runtime:CommandRateHz=50", "Runtime:SuccessThreshold=0"],
    };

    public static async Task WaitUntil(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? Generous;
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > limit) throw new TimeoutException($"timed out after {limit.TotalSeconds:0.#} s waiting for {what}");
            await Task.Delay(20);
        }
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? Generous;
        var sw = Stopwatch.StartNew();
        while (!await condition())
        {
            if (sw.Elapsed > limit) throw new TimeoutException($"timed out after {limit.TotalSeconds:0.#} s waiting for {what}");
            await Task.Delay(50);
        }
    }
}
