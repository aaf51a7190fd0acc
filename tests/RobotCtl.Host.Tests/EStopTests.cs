using RobotCtl.Runtime.Devices;
using RobotCtl.Host.Composition;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using RobotCtl.Episodes;
using RobotCtl.Hardware.Links;
using RobotCtl.Hardware.Servers;
using RobotCtl.Hardware.Tests;
using RobotCtl.Host.Commands;
using RobotCtl.Runtime;
using RobotCtl.Runtime.Composition;
using RobotCtl.Sim;

namespace RobotCtl.Host.Tests;

/// <summary>
/// The e-stop inputs of a running runtime, on real parts: the MQTT estop topic on a real mosquitto broker (what the
/// arm server receives afterwards is only holds), and `robotctl estop` through the runtime's real Unix socket.
/// Outcomes are awaited with generous timeouts; nothing is counted exactly under timing.
/// </summary>
[Trait("Category", "Slow")]
public class EStopTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);
    private const string Scene = "seed=7,ee=-0.12:-0.12:0.03";

    [Fact]
    public async Task A_message_on_the_mqtt_estop_topic_latches_a_running_loop_and_only_holds_reach_the_arm()
    {
        using var dir = new TempDir();
        using var broker = new Broker(dir.Path);
        await broker.StartAsync();
        var workcell = new SimWorkcell(SimSceneOptions.Parse(Scene));
        await using var server = new MqttArmServer(workcell, new MqttLinkOptions { Host = "127.0.0.1", Port = broker.Port, RobotId = "stop1" });
        var received = new ConcurrentQueue<ReceivedCommand>();
        server.CommandReceived += received.Enqueue;
        server.Start();
        await TestRig.WaitUntil(() => server.IsConnected, Generous, "the arm server's broker connection");
        var profile = TestHome.MqttProfile(dir, broker.Port, "stop1");
        var goal = TestScenes.GoalImage(dir.Path, "seed=7,ee=0.1:0.08:0.03");
        var request = TestHome.SmallRun(goal, dir.File("episodes"), steps: 100_000) with { Sim = false, Camera = "sim", Arm = profile };

        using var cts = new CancellationTokenSource();
        RunOutcome outcome;
        await using (var opened = await SessionRun.OpenAsync(request.Goals, request.Overrides(), new RunWorld().With(workcell)))
        {
            var (components, session) = (opened.Components, opened.Session);
            var run = session.RunAsync(cts.Token);
            try
            {
                await TestRig.WaitUntil(() => received.Any(c => !c.Command.IsHold) || run.IsCompleted, Generous, "the loop to move the arm");
                Assert.False(run.IsCompleted, "the loop ended before the e-stop");

                // A panic button's message: plain text on the estop topic (repeated until the link's subscription catches it).
                await PublishUntil(broker.Port, "robotctl/stop1/estop", () => components.Governor.IsEStopped);
                await TestRig.WaitUntil(() => server.IsEStopped, Generous, "the arm side to latch (EStop frame)");

                // One command decided before the latch may still be on its way: skip past a few, then only holds.
                var skip = received.Count + 3;
                await TestRig.WaitUntil(() => received.Count >= skip, Generous, "commands after the latch");
                var from = received.Count;
                await TestRig.WaitUntil(() => received.Count >= from + 5, Generous, "more commands while latched");
                var after = received.ToArray()[from..];
                Assert.All(after, c => Assert.True(c.Command.IsHold, $"a motion command after the e-stop: {c.Command}"));
                Assert.False(run.IsCompleted, "the loop must wait while latched, not end");
                Assert.True(components.Governor.IsEStopped);
            }
            finally
            {
                cts.Cancel();
                outcome = await run;
                await session.CloseEpisodeAsync(outcome);
            }
        }
        Assert.Equal(RunOutcome.Cancelled, outcome);
        using var reader = EpisodeReader.Open(Assert.Single(EpisodeCatalog.List(dir.File("episodes"))).Path);
        var estop = Assert.Single(reader.Events(), e => e.Kind == EpisodeEventKind.EStop);
        Assert.Contains("robotctl/stop1/estop", estop.Message);
        Assert.True(EpisodeSummary.Of(reader).EStops >= 1);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Robotctl_estop_latches_a_running_run_through_its_unix_socket_and_release_rearms_it()
    {
        using var dir = new TempDir();
        var control = dir.File("run");
        var goal = TestScenes.GoalImage(dir.Path, "seed=7,ee=0.1:0.08:0.03");
        var request = TestHome.SmallRun(goal, dir.File("episodes"), steps: 100_000);
        request = request with { Sets = [.. request.Sets, $"Safety:ControlDirectory={control}"] };
        using var cts = new CancellationTokenSource();
        var run = RunCommand.RunAsync(request, cts.Token);
        try
        {
            await TestRig.WaitUntil(() => ControlEndpoint.FindSockets(control).Count > 0 || run.IsCompleted, Generous, "the run's control socket");
            if (run.IsCompleted) Assert.Fail($"the run ended early with exit {await run}");
            var socket = Assert.Single(ControlEndpoint.FindSockets(control));
            // Only the owner may connect: the directory is private and the socket is 0600.
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(socket));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(control));
            Assert.Contains("armed", await ControlEndpoint.RequestAsync(socket, "status", Generous, CancellationToken.None));

            Assert.Equal(0, await EStopCommand.RunAsync(release: false, socket: control, reason: "test", CancellationToken.None));
            Assert.Contains("latched", await ControlEndpoint.RequestAsync(socket, "status", Generous, CancellationToken.None));
            Assert.False(run.IsCompleted, "a latched run waits for release or interruption");

            Assert.Equal(0, await EStopCommand.RunAsync(release: true, socket: control, reason: null, CancellationToken.None));
            Assert.Contains("armed", await ControlEndpoint.RequestAsync(socket, "status", Generous, CancellationToken.None));
            Assert.StartsWith("error:", await ControlEndpoint.RequestAsync(socket, "bogus", Generous, CancellationToken.None));
        }
        finally
        {
            cts.Cancel();
        }
        Assert.Equal(ExitCodes.Of(RunOutcome.Cancelled), await run.WaitAsync(Generous));
        Assert.Empty(ControlEndpoint.FindSockets(control)); // removed on the way out

        using var reader = EpisodeReader.Open(Assert.Single(EpisodeCatalog.List(dir.File("episodes"))).Path);
        var latch = Assert.Single(reader.Events(), e => e.Kind == EpisodeEventKind.EStop);
        Assert.Contains("latched by robotctl estop", latch.Message);
        Assert.Contains("test", latch.Message);
        Assert.Contains(reader.Events(), e => e.Kind == EpisodeEventKind.Note && e.Message.Contains("released by robotctl estop --release"));
        Assert.Equal(1, EpisodeSummary.Of(reader).EStops);
    }

    [Fact]
    public async Task Robotctl_estop_with_no_runtime_running_fails_with_exit_1()
    {
        using var dir = new TempDir();
        Assert.Equal(EStopCommand.NoRuntime, await EStopCommand.RunAsync(release: false, socket: dir.Path, reason: null, CancellationToken.None));
        Assert.Equal(1, EStopCommand.NoRuntime);
    }

    private static async Task PublishUntil(int port, string topic, Func<bool> done)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (!done())
        {
            if (sw.Elapsed > Generous) throw new TimeoutException($"nothing latched within {Generous.TotalSeconds} s of publishing to {topic}");
            using (var p = TestRig.Start("mosquitto_pub", $"-h 127.0.0.1 -p {port} -q 1 -t {topic} -m stop"))
            {
                p.ErrorDataReceived += (_, _) => { };
                p.BeginErrorReadLine();
                await p.WaitForExitAsync().WaitAsync(Generous);
            }
            for (var i = 0; i < 50 && !done(); i++) await Task.Delay(10);
        }
    }
}
