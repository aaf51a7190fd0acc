using System.Collections.Concurrent;
using System.Diagnostics;
using RobotCtl.Core.Arm;
using RobotCtl.Hardware.Links;
using RobotCtl.Hardware.Tests;

namespace RobotCtl.Host.Tests;

/// <summary>`robotctl sim-arm --mqtt embedded:PORT`: one process hosts the broker and the simulated arm; a link connects as to any broker.</summary>
[Trait("Category", "Integration")]
public class SimArmEmbeddedBrokerTests
{
    [Fact]
    public async Task Sim_arm_with_an_embedded_broker_is_driven_over_MQTT_and_stops_cleanly()
    {
        var port = TestRig.FreeTcpPort();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "robotctl.dll"), "sim-arm", "--mqtt", $"embedded:{port}", "--robot-id", "solo", "--quiet" })
            psi.ArgumentList.Add(a);
        psi.Environment["ROBOTCTL_HOME"] = TestHome.Root;
        using var process = Process.Start(psi)!;
        var log = new ConcurrentQueue<string>();
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue(e.Data); };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue(e.Data); };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            await TestRig.WaitUntil(() => log.Any(l => l.Contains($"embedded MQTT broker listening on 127.0.0.1:{port}")) || process.HasExited,
                TestRig.Generous, "the embedded broker");
            Assert.False(process.HasExited, string.Join("\n", log));

            await using var link = new MqttArmLink(new MqttLinkOptions { Port = port, RobotId = "solo", ConnectTimeout = TestRig.Generous });
            await link.ConnectAsync(CancellationToken.None);
            await TestRig.WaitUntil(() => link.RobotStatus == "online", TestRig.Generous, "the simulated arm's online status");
            ArmState before = default;
            await TestRig.WaitUntil(() => link.TryGetLatestState(out before), TestRig.Generous, "a first state");
            // A few commands 2 mm along x: the arm applies them (its watchdog holds between bursts) and reports the move.
            for (var i = 0; i < 10; i++)
            {
                link.TrySend(new EeCommand(0.002f, 0, 0, 0, 0, 0, 0));
                await Task.Delay(30);
            }
            await TestRig.WaitUntil(() => link.TryGetLatestState(out var s) && s.X > before.X + 0.005, TestRig.Generous, "the effector to move along x");
        }
        finally
        {
            // SIGINT as Ctrl-C would: the arm server and then the broker stop, exit 0.
            Process.Start("kill", $"-INT {process.Id}").WaitForExit();
            if (!process.WaitForExit(30_000)) process.Kill(entireProcessTree: true);
            // The timed overload returns before the last redirected lines are read (and a killed process may not have
            // exited yet); this one waits for both.
            process.WaitForExit();
        }
        Assert.Equal(0, process.ExitCode);
        Assert.Contains(log, l => l.Contains("stopping:"));
    }
}
