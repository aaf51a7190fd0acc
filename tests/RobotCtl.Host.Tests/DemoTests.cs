using System.Diagnostics;

namespace RobotCtl.Host.Tests;

/// <summary>`robotctl demo` with the shipped trained model reaches its goal, judged on the sim's true state.</summary>
[Trait("Category", "Slow")]
public class DemoTests
{
    [Fact]
    public void The_demo_reaches_its_goal_with_the_shipped_model()
    {
        using var dir = new TestHome.TempDir();
        // Rendering on read and no planner deadline make the run a pure function of the seed (as eval runs it), so the
        // assertion cannot depend on the machine's load.
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "robotctl.dll"), "demo", "--quiet", "--record", dir.File("episodes"),
                     "--set", "Sim:RenderOnRead=true", "--set", "Planner:DeadlineMs=" })
            psi.ArgumentList.Add(a);
        psi.Environment["ROBOTCTL_HOME"] = TestHome.Root;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(5)), "demo did not finish in 5 minutes");
        Assert.True(p.ExitCode == 0, $"demo exited {p.ExitCode}:\n{stdout.Result}\n{stderr.Result}");
        Assert.Contains("robotctl demo: goal reached: the effector is", stdout.Result);
    }
}
