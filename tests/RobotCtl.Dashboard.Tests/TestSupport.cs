using System.Diagnostics;

namespace RobotCtl.Dashboard.Tests;

/// <summary>Waiting on conditions (the fixtures are the host tests' <see cref="TestHome"/>).</summary>
internal static class TestSupport
{
    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    /// <summary>Where the goal images of these tests show the effector.</summary>
    public const string GoalScene = "seed=7,ee=0.1:0.08:0.03";

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
