using System.Collections.Concurrent;
using RobotCtl.Core.Arm;
using RobotCtl.Core.Timing;
using RobotCtl.Hardware.Links;
using RobotCtl.Hardware.Protocol;
using RobotCtl.Hardware.Servers;
using RobotCtl.Sim;

namespace RobotCtl.Hardware.Tests;

/// <summary>End to end through a real mosquitto broker started on a free loopback port, observed with mosquitto_sub.</summary>
[Trait("Category", "Integration")]
public class MqttLinkTests
{
    private static MqttLinkOptions Options(int port, string robot, int qos = 0) => new()
    {
        Port = port, RobotId = robot, Qos = qos, KeepAliveSeconds = 5,
        ReconnectInitialDelay = TimeSpan.FromSeconds(1), ReconnectMaxDelay = TimeSpan.FromSeconds(2),
        ConnectTimeout = TestRig.Generous, // tests that expect a refusal set their own, shorter one
    };

    // Freshness is unit-tested (CommandFreshnessTests, ArmPeerTests); where a test is about delivery, a stall on a
    // loaded machine between the link's send stamp and the server's read must not make a command "stale".
    private static readonly ArmServerOptions PatientServer = new() { MaxCommandAge = TimeSpan.FromSeconds(30) };

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task Commands_reach_the_arm_and_the_wire_carries_the_documented_frames(int qos)
    {
        using var dir = new TempDir();
        using var broker = new Broker(dir.Path);
        await broker.StartAsync();
        using var sub = new Subscriber(broker.Port, "robotctl/#");
        var workcell = new SimWorkcell();
        var received = new ConcurrentQueue<ReceivedCommand>();
        await using var server = new MqttArmServer(workcell, Options(broker.Port, "arm1", qos), PatientServer);
        server.CommandReceived += received.Enqueue;
        server.Start();
        await using var link = new MqttArmLink(Options(broker.Port, "arm1", qos));
        await link.ConnectAsync(CancellationToken.None);
        await TestRig.WaitUntil(() => link.RobotStatus == "online", TestRig.Generous, "the robot's retained online status");
        // mosquitto_sub is subscribed once it has seen the status (retained, or live if it subscribed first).
        await TestRig.WaitUntil(() => sub.Messages.Any(m => m.Topic == "robotctl/arm1/status"), TestRig.Generous, "mosquitto_sub to see the status, so it is subscribed before the commands go out");

        for (var i = 1; i <= 10; i++)
        {
            Assert.True(link.TrySend(new EeCommand(0.001f, 0, 0, 0, 0, 0, i / 10f)));
            await TestRig.WaitUntil(() => received.Count >= i, TestRig.Generous, $"command {i}");
        }
        Assert.Equal(Enumerable.Range(1, 10).Select(i => i / 10f), received.Select(r => r.Command.Gripper));
        Assert.All(received, r => Assert.True(r.Applied, r.Outcome));
        await TestRig.WaitUntil(() => link.TryGetLatestState(out var s) && s.X > 0.0095, TestRig.Generous, "state back at the link");

        // The independent observer saw the same command frames on robotctl/arm1/cmd, and state frames and status.
        await TestRig.WaitUntil(() => sub.Messages.Count(m => m.Topic == "robotctl/arm1/cmd") >= 10, TestRig.Generous, "mosquitto_sub to see the commands");
        var wire = sub.Messages.Where(m => m.Topic == "robotctl/arm1/cmd").Select(m => m.Payload).ToArray();
        var grippers = new List<float>();
        foreach (var payload in wire)
        {
            Assert.Equal(WireFrame.CommandFrameSize, payload.Length);
            Assert.Equal(new byte[] { 0xA5, 0x5A, 1, (byte)MessageType.Command }, payload[..4]);
            var d = new FrameDecoder();
            d.Feed(payload);
            Assert.True(d.TryDecode(out var f));
            Assert.True(f.TryReadCommand(out var c));
            grippers.Add(c.Gripper);
        }
        Assert.Equal(received.Select(r => r.Command.Gripper), grippers);
        Assert.Contains(sub.Messages, m => m.Topic == "robotctl/arm1/state" && m.Payload.Length == WireFrame.StateFrameSize);
        Assert.Contains(sub.Messages, m => m.Topic == "robotctl/arm1/status" && m.Payload.SequenceEqual("online"u8.ToArray()));
        // "online" is retained: an observer arriving now is told at once.
        using var late = new Subscriber(broker.Port, "robotctl/arm1/status");
        await TestRig.WaitUntil(() => late.Messages.Any(), TestRig.Generous, "the retained status");
        Assert.Equal(("robotctl/arm1/status", true), (late.Messages.First().Topic, late.Messages.First().Retained));
        Assert.Equal("online"u8.ToArray(), late.Messages.First().Payload);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Broker_restart_is_reported_held_and_resumed_without_replaying_stale_commands()
    {
        using var dir = new TempDir();
        using var broker = new Broker(dir.Path);
        await broker.StartAsync();
        var backend = new RecordingBackend();
        var received = new ConcurrentQueue<ReceivedCommand>();
        await using var server = new MqttArmServer(backend, Options(broker.Port, "arm2", 1));
        server.CommandReceived += received.Enqueue;
        server.Start();
        await using var link = new MqttArmLink(Options(broker.Port, "arm2", 1));
        var events = new ConcurrentQueue<ArmLinkEvent>();
        link.EventRaised += events.Enqueue;
        await link.ConnectAsync(CancellationToken.None);
        await TestRig.WaitUntil(() => server.IsConnected, TestRig.Generous, "the server");

        // Stream at 50 Hz throughout: before, during and after the outage.
        using var stop = new CancellationTokenSource();
        long refused = 0;
        var streamer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (!link.TrySend(new EeCommand(0.0001f, 0, 0, 0, 0, 0, 0))) Interlocked.Increment(ref refused);
                await Task.Delay(20);
            }
        });
        await TestRig.WaitUntil(() => server.CommandsApplied >= 10, TestRig.Generous, "commands before the outage");

        var stoppedAtMicros = LinkState.NowMicros(); // the links' send-stamp clock (the monotonic clock in µs)
        broker.Stop();
        await TestRig.WaitUntil(() => link.Status == ArmLinkStatus.Disconnected, TestRig.Generous, "the link to report the loss");
        var refusedAtLoss = Interlocked.Read(ref refused);
        await TestRig.WaitUntil(() => server.IsHolding, TestRig.Generous, "the arm to hold");
        // Commands are refused while the broker is down; ~1.5 s of them at 50 Hz (longer when the machine is slow).
        await TestRig.WaitUntil(() => Interlocked.Read(ref refused) > refusedAtLoss + 75, TestRig.Generous, "75 commands refused while the broker is down");
        var appliedDuringOutage = server.CommandsApplied;

        var restartTicks = MonotonicClock.Now;
        await broker.StartAsync();
        await TestRig.WaitUntil(() => link.Status == ArmLinkStatus.Online && server.IsConnected, TestRig.Generous, "both ends to reconnect");
        await TestRig.WaitUntil(() => server.CommandsApplied >= appliedDuringOutage + 10, TestRig.Generous, "commands after the reconnect");
        stop.Cancel();
        await streamer;

        Assert.Contains(events, e => e.Status == ArmLinkStatus.Disconnected);
        Assert.True(link.Reconnects >= 1);
        // Nothing from before the outage was replayed: a command that arrived through the restarted broker and was
        // applied was sent after the broker went down (same machine, same monotonic clock, so the stamps compare).
        // (Not "every age under MaxCommandAge": on a loaded machine ages near the limit are a matter of timing.)
        foreach (var r in received.Where(r => r.Applied && r.ReceivedTicks > restartTicks))
            Assert.True(r.SenderMicros > stoppedAtMicros, $"command {r.Sequence}, sent before the outage, was applied after it");
    }

    [Fact]
    public async Task The_last_will_marks_the_robot_offline_when_the_arm_dies()
    {
        using var dir = new TempDir();
        using var broker = new Broker(dir.Path);
        await broker.StartAsync();
        await using var server = new MqttArmServer(new RecordingBackend(), Options(broker.Port, "arm3"));
        server.Start();
        await TestRig.WaitUntil(() => server.IsConnected, TestRig.Generous, "the server");
        await using var link = new MqttArmLink(Options(broker.Port, "arm3"));
        await link.ConnectAsync(CancellationToken.None);
        await TestRig.WaitUntil(() => link.RobotStatus == "online", TestRig.Generous, "online");

        server.SimulateCrash();
        await TestRig.WaitUntil(() => link.RobotStatus == "offline", TestRig.Generous, "the will at the link");

        // A late observer still gets the retained "offline" from the broker.
        using var sub = new Subscriber(broker.Port, "robotctl/arm3/status");
        await TestRig.WaitUntil(() => sub.Messages.Any(), TestRig.Generous, "mosquitto_sub to get the retained status");
        var (topic, retained, payload) = sub.Messages.First();
        Assert.Equal("robotctl/arm3/status", topic);
        Assert.True(retained);
        Assert.Equal("offline"u8.ToArray(), payload);
    }

    [Fact]
    public async Task A_link_started_before_the_broker_connects_when_it_arrives()
    {
        using var dir = new TempDir();
        using var broker = new Broker(dir.Path);
        await using var link = new MqttArmLink(Options(broker.Port, "arm4"));
        var connecting = link.ConnectAsync(CancellationToken.None);
        // Not synchronisation: a window in which a wrong "connected" would show. Nothing listens yet, so no load
        // can make it complete early.
        await Task.WhenAny(connecting, Task.Delay(300));
        Assert.False(connecting.IsCompleted);
        await broker.StartAsync();
        await connecting;
        Assert.Equal(ArmLinkStatus.Online, link.Status);
    }

    [Fact]
    public async Task Username_and_password_are_sent_and_a_refusal_is_explained()
    {
        using var dir = new TempDir();
        var passwords = dir.File("passwd");
        using (var p = TestRig.Start("mosquitto_passwd", $"-b -c {passwords} robot s3cret")) p.WaitForExit();
        using var broker = new Broker(dir.Path, $"password_file {passwords}\nallow_anonymous false\n");
        await broker.StartAsync();

        await using var good = new MqttArmLink(Options(broker.Port, "arm5") with { Username = "robot", Password = "s3cret" });
        await good.ConnectAsync(CancellationToken.None);
        Assert.Equal(ArmLinkStatus.Online, good.Status);

        await using var bad = new MqttArmLink(Options(broker.Port, "arm5") with { Username = "robot", Password = "wrong", ConnectTimeout = TimeSpan.FromSeconds(10) });
        // The link keeps retrying until its timeout and then reports the last CONNACK: the bound must leave a loaded
        // machine time for the first refusal to arrive (2 s did not always), without making the test wait 30 s.
        var e = await Assert.ThrowsAsync<ArmLinkException>(() => bad.ConnectAsync(CancellationToken.None));
        Assert.Contains("not authorised", e.Message);
    }

    [Fact]
    public async Task Tls_with_a_CA_file_connects_to_a_TLS_listener()
    {
        using var dir = new TempDir();
        string key = dir.File("key.pem"), cert = dir.File("cert.pem");
        using (var p = TestRig.Start("openssl", $"req -x509 -newkey rsa:2048 -nodes -keyout {key} -out {cert} -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1"))
            p.WaitForExit();
        using var broker = new Broker(dir.Path, $"allow_anonymous true\ncafile {cert}\ncertfile {cert}\nkeyfile {key}\n");
        await broker.StartAsync();
        await using var server = new MqttArmServer(new RecordingBackend(), Options(broker.Port, "arm6") with { TlsCaFile = cert }, PatientServer);
        server.Start();
        await using var link = new MqttArmLink(Options(broker.Port, "arm6") with { TlsCaFile = cert });
        await link.ConnectAsync(CancellationToken.None);
        await TestRig.WaitUntil(() => server.IsConnected, TestRig.Generous, "the TLS server");
        Assert.True(link.TrySend(new EeCommand(0.001f, 0, 0, 0, 0, 0, 0)));
        await TestRig.WaitUntil(() => server.CommandsApplied == 1, TestRig.Generous, "a command over TLS");

        // Plain MQTT to the TLS listener is refused, not silently accepted.
        await using var plain = new MqttArmLink(Options(broker.Port, "arm6") with { ConnectTimeout = TimeSpan.FromSeconds(1.5) });
        await Assert.ThrowsAsync<ArmLinkException>(() => plain.ConnectAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Connect_fails_clearly_when_no_broker_listens()
    {
        var port = TestRig.FreeTcpPort();
        await using var link = new MqttArmLink(Options(port, "nobody") with { ConnectTimeout = TimeSpan.FromMilliseconds(500) });
        var e = await Assert.ThrowsAsync<ArmLinkException>(() => link.ConnectAsync(CancellationToken.None));
        Assert.Contains($"127.0.0.1:{port}", e.Message);
        Assert.False(link.TrySend(EeCommand.Hold));
    }
}
