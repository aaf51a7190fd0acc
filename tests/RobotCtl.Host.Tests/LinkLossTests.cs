using System.Text.Json;
using RobotCtl.Runtime.Devices;
using RobotCtl.Episodes;
using RobotCtl.Hardware.Links;
using RobotCtl.Hardware.Servers;
using RobotCtl.Hardware.Tests;
using RobotCtl.Host.Commands;
using RobotCtl.Runtime;
using RobotCtl.Sim;

namespace RobotCtl.Host.Tests;

/// <summary>
/// A run whose arm goes away for good (the socat pty pair killed, as an unplugged adapter; or the arm stops answering
/// behind a link that stays open) stops as a fault (exit 5) naming the link, with the loss counted once in the episode;
/// a sim camera with a real arm is refused at start.
/// </summary>
[Trait("Category", "Slow")]
public class LinkLossTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_run_whose_serial_arm_disappears_ends_with_exit_5_naming_the_link_and_records_the_disconnect()
    {
        using var dir = new TempDir();
        using var pty = new PtyPair(dir.Path);
        await pty.StartAsync();
        var workcell = new SimWorkcell(SimSceneOptions.Parse("seed=7,ee=-0.12:-0.12:0.03"));
        await using var server = new SerialArmServer(workcell, new SerialLinkOptions { Device = pty.B, Baud = 1_000_000 });
        server.Start();
        var profile = TestHome.SerialProfile(dir, pty.A);
        var goal = TestScenes.GoalImage(dir.Path, "seed=7,ee=0.1:0.08:0.03");
        var request = TestHome.SmallRun(goal, dir.File("episodes"), steps: 100_000) with { Sim = false, Camera = "sim", Arm = profile };
        request = request with { Sets = [.. request.Sets, "Safety:LinkLossMs=1500", $"Safety:ControlDirectory={dir.File("run")}"] };
        using var cts = new CancellationTokenSource();
        var run = RunCommand.RunAsync(request, cts.Token, new RunWorld().With(workcell));
        try
        {
            await TestRig.WaitUntil(() => server.CommandsApplied > 0 || run.IsCompleted, Generous, "the loop to drive the arm");
            if (run.IsCompleted) Assert.Fail($"the run ended before the link was cut (exit {await run})");
            await pty.StopAsync();
            var exit = await run.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(ExitCodes.Of(RunOutcome.Faulted), exit);
            Assert.Equal(5, exit);
        }
        finally
        {
            cts.Cancel();
        }

        using var reader = EpisodeReader.Open(Assert.Single(EpisodeCatalog.List(dir.File("episodes"))).Path);
        var events = reader.Events().ToArray();
        Assert.Contains(events, e => e.Kind == EpisodeEventKind.Disconnect && e.Message.Contains(pty.A));
        Assert.Contains(events, e => e.Kind == EpisodeEventKind.Fault && e.Message.Contains($"arm serial {pty.A} @ 1000000: no state for"));
        var summary = EpisodeSummary.Of(reader);
        Assert.True(summary.Faults >= 1);
        Assert.Equal(1, summary.Disconnects); // the link reported it; the silence that ended the run is the same loss
    }

    [Fact]
    public async Task An_arm_that_stops_answering_behind_an_open_link_ends_the_run_with_exit_5_counted_as_one_link_loss()
    {
        using var dir = new TempDir();
        using var pty = new PtyPair(dir.Path);
        await pty.StartAsync();
        var episodes = dir.File("episodes");
        using var arm = new TestHome.CliChild("sim-arm", "--serial", pty.B, "--baud", "1000000", "--quiet");
        var goal = TestScenes.GoalImage(dir.Path, "seed=7,ee=0.1:0.08:0.03");
        var args = TestHome.SmallRunArgs(goal, episodes, dir.File("run"), arm: TestHome.SerialProfile(dir, pty.A));
        using var run = new TestHome.CliChild([.. args, "--set", "Safety:LinkLossMs=1500"]);
        await TestRig.WaitUntil(() => run.HasExited || Directory.Exists(episodes) && EpisodeCatalog.List(episodes) is [{ Steps: >= 2 }], Generous, "two recorded steps");
        Assert.False(run.HasExited, $"the run ended before the arm was stopped: {run.Errors}");

        // SIGSTOP: the sim-arm process keeps its end of the pty open, so the link never reports a disconnect; it only goes silent.
        arm.Signal("STOP");
        Assert.Equal(5, await run.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains($"arm serial {pty.A} @ 1000000: no state for", run.Errors);
        arm.Kill9();

        var id = Path.GetFileNameWithoutExtension(Assert.Single(Directory.GetFiles(episodes, "*.sqlite")));
        var show = BadInputTests.Cli("episodes", "show", id, "--dir", episodes);
        Assert.True(show.Code == 0, show.Err);
        Assert.Contains("faults 1   e-stops 0   link lost 1 / regained 0", show.Out);
        var json = JsonDocument.Parse(BadInputTests.Cli("episodes", "show", id, "--dir", episodes, "--json").Out).RootElement;
        Assert.Equal(1, json.GetProperty("faults").GetInt64());
        Assert.Equal(1, json.GetProperty("disconnects").GetInt64());
        using var reader = EpisodeReader.Open(Path.Combine(episodes, id + ".sqlite"));
        var loss = Assert.Single(reader.Events(), e => e.Kind == EpisodeEventKind.Disconnect);
        Assert.Contains($"arm serial {pty.A} @ 1000000: no state for", loss.Message);
    }

    [Fact]
    public async Task A_sim_camera_with_a_real_arm_profile_is_refused_at_start_with_exit_2()
    {
        using var dir = new TempDir();
        var profile = TestHome.SerialProfile(dir, "/dev/robotctl-test-none", 115200);
        var goal = TestScenes.GoalImage(dir.Path, "seed=7,ee=0.1:0.08:0.03");
        var request = TestHome.SmallRun(goal, dir.File("episodes")) with { Sim = false, Camera = "sim", Arm = profile };

        // The one-line reason goes to stderr (other tests may write there meanwhile: only a line is looked for).
        var stderr = new StringWriter();
        var previous = Console.Error;
        int exit;
        Console.SetError(TextWriter.Synchronized(stderr));
        try
        {
            exit = await RunCommand.RunAsync(request with { Model = dir.File("no-model-here") }, CancellationToken.None);
        }
        finally
        {
            Console.SetError(previous);
        }
        Assert.Equal(2, exit);
        // Refused before anything was loaded (the model directory does not exist) or opened.
        Assert.Contains("Safety:AllowUnlinkedCamera", stderr.ToString());
        Assert.DoesNotContain("no-model-here", stderr.ToString());
    }
}
