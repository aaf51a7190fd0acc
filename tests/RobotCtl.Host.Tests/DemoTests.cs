using System.Diagnostics;

namespace RobotCtl.Host.Tests;

/// <summary>`robotctl demo` with the shipped trained model reaches its goal, judged on the sim's true state: the reach demo's effector, the push demo's block.</summary>
[Trait("Category", "Slow")]
public class DemoTests
{
    [Theory]
    [InlineData("reach", "the effector")]
    [InlineData("push", "the block")]
    public async Task The_demo_reaches_its_goal_with_the_shipped_model(string task, string judged)
    {
        using var dir = new TempDir();
        // Rendering on read and no planner deadline make the run a pure function of the seed (as eval runs it), so the
        // assertion cannot depend on the machine's load.
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "robotctl.dll"), "demo", "--task", task, "--quiet", "--record", dir.File("episodes"),
                     "--set", "Sim:RenderOnRead=true", "--set", "Planner:DeadlineMs=" })
            psi.ArgumentList.Add(a);
        psi.Environment["ROBOTCTL_HOME"] = TestHome.Root;
        using var p = Process.Start(psi)!;
        var stdoutTask = p.StandardOutput.ReadToEndAsync();
        var stderrTask = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await p.WaitForExitAsync(timeout.Token);
        var (stdout, stderr) = (await stdoutTask, await stderrTask);
        Assert.True(p.ExitCode == 0, $"demo exited {p.ExitCode}:\n{stdout}\n{stderr}");
        Assert.Contains($"robotctl demo: goal reached: {judged} is", stdout);
    }
}
