using System.Collections.Concurrent;
using RobotCtl.Core.Arm;
using RobotCtl.Hardware.Links;
using RobotCtl.Hardware.Serial;
using RobotCtl.Hardware.Servers;
using RobotCtl.Sim;

namespace RobotCtl.Hardware.Tests;

/// <summary>End to end over a real pty pair made by socat: the controller's link on one end, a SimWorkcell served on the other.</summary>
[Trait("Category", "Integration")]
public class SerialLinkTests
{
    // Freshness is unit-tested (CommandFreshnessTests, ArmPeerTests); here a loaded machine's stall between the
    // link's send stamp and the server's read must not turn a command into a "stale" drop.
    private static readonly ArmServerOptions ServerOptions = new() { Watchdog = TimeSpan.FromMilliseconds(300), MaxCommandAge = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task Commands_arrive_in_order_and_state_comes_back()
    {
        using var dir = new TempDir();
        using var pty = new PtyPair(dir.Path);
        await pty.StartAsync();
        var workcell = new SimWorkcell();
        var received = new ConcurrentQueue<ReceivedCommand>();
        await using var server = new SerialArmServer(workcell, new SerialLinkOptions { Device = pty.B, Baud = 1000000 }, ServerOptions);
        server.CommandReceived += received.Enqueue;
        server.Start();
        await using var link = new SerialArmLink(new SerialLinkOptions { Device = pty.A, Baud = 1000000 });
        await link.ConnectAsync(CancellationToken.None);
        Assert.Equal(ArmLinkStatus.Online, link.Status);
        var start = workcell.CurrentState;

        for (var i = 1; i <= 20; i++)
        {
            Assert.True(link.TrySend(new EeCommand(0.001f, 0, 0, 0, 0, 0, i / 100f)));
            await TestRig.WaitUntil(() => received.Count >= i, TestRig.Generous, $"command {i} at the arm");
        }

        var got = received.ToArray();
        Assert.All(got, r => Assert.True(r.Applied, r.Outcome));
        Assert.Equal(Enumerable.Range(1, 20).Select(i => i / 100f), got.Select(r => r.Command.Gripper));
        Assert.True(got.Zip(got.Skip(1)).All(p => p.Second.Sequence == p.First.Sequence + 1), "sequences increase by one");
        Assert.Equal(start.X + 0.02, workcell.CurrentState.X, 1e-5);

        await TestRig.WaitUntil(() => link.TryGetLatestState(out var s) && Math.Abs(s.X - (start.X + 0.02)) < 1e-5, TestRig.Generous, "the moved state at the link");
        Assert.Equal(0, link.CrcErrors);
        Assert.Equal(0, server.CrcErrors);
    }

    [Fact]
    public async Task Device_loss_is_reported_commands_are_refused_and_the_link_reconnects()
    {
        using var dir = new TempDir();
        using var pty = new PtyPair(dir.Path);
        await pty.StartAsync();
        var backend = new RecordingBackend();
        await using var server = new SerialArmServer(backend, new SerialLinkOptions { Device = pty.B, Baud = 115200 }, ServerOptions);
        server.Start();
        await using var link = new SerialArmLink(new SerialLinkOptions { Device = pty.A, Baud = 115200 });
        var events = new ConcurrentQueue<ArmLinkEvent>();
        link.EventRaised += events.Enqueue;
        await link.ConnectAsync(CancellationToken.None);
        Assert.True(link.TrySend(new EeCommand(0.001f, 0, 0, 0, 0, 0, 0)));
        await TestRig.WaitUntil(() => server.CommandsApplied == 1, TestRig.Generous, "the first command");

        await pty.StopAsync();
        await TestRig.WaitUntil(() => link.Status == ArmLinkStatus.Disconnected, TestRig.Generous, "the link to notice");
        Assert.Contains(events, e => e.Status == ArmLinkStatus.Disconnected && e.Message.Contains("device lost"));
        Assert.False(link.TrySend(new EeCommand(0.001f, 0, 0, 0, 0, 0, 0))); // held: nothing queued for later
        await TestRig.WaitUntil(() => server.IsHolding, TestRig.Generous, "the arm side to hold");

        await pty.StartAsync();
        await TestRig.WaitUntil(() => link.Status == ArmLinkStatus.Online && server.IsOpen, TestRig.Generous, "both ends to reopen");
        Assert.True(link.Reconnects >= 1, $"reconnects {link.Reconnects}");
        Assert.True(link.TrySend(new EeCommand(0, 0.002f, 0, 0, 0, 0, 0)));
        await TestRig.WaitUntil(() => server.CommandsApplied == 2, TestRig.Generous, "a command after the reconnect");
        Assert.Equal([0.001f, 0f], backend.Snapshot().Where(c => !c.IsHold).Select(c => c.Dx));
    }

    /// <summary>
    /// Over a real pty only the eventual outcome is asserted: the arm ends up held and nothing moved it after the hold.
    /// How many holds a loaded machine produces between sends is timing; the exact behaviour is in ArmPeerTests.
    /// </summary>
    [Fact]
    public async Task The_arm_side_watchdog_holds_when_commands_stop()
    {
        using var dir = new TempDir();
        using var pty = new PtyPair(dir.Path);
        await pty.StartAsync();
        var backend = new RecordingBackend();
        await using var server = new SerialArmServer(backend, new SerialLinkOptions { Device = pty.B }, ServerOptions);
        server.Start();
        await using var link = new SerialArmLink(new SerialLinkOptions { Device = pty.A });
        await link.ConnectAsync(CancellationToken.None);
        // One at a time: the link's mailbox keeps only the newest command, so a second send before the first went
        // out would replace it.
        for (var i = 1; i <= 5; i++)
        {
            Assert.True(link.TrySend(new EeCommand(0.001f, 0, 0, 0, 0, 0, 0)));
            await TestRig.WaitUntil(() => server.CommandsApplied >= i, TestRig.Generous, $"command {i} applied at the arm");
        }

        await TestRig.WaitUntil(() => server.IsHolding, TestRig.Generous, "the watchdog to hold the arm after the commands stopped");
        Assert.True(server.WatchdogHolds >= 1, $"watchdog holds {server.WatchdogHolds}");
        var applied = backend.Snapshot();
        Assert.True(applied[^1].IsHold, "the last thing the arm was given is the watchdog's hold");
        Assert.Equal(5, applied.Count(c => !c.IsHold)); // every motion is one of ours; holds in between are the watchdog's
        await TestRig.WaitUntil(() => link.PeerStatus == Protocol.PeerStatus.Holding, TestRig.Generous, "a heartbeat saying Holding at the link");
    }

    [Fact]
    public async Task Connect_fails_with_the_errno_text_when_the_device_does_not_exist()
    {
        await using var link = new SerialArmLink(new SerialLinkOptions { Device = "/nonexistent/tty", ConnectTimeout = TimeSpan.FromMilliseconds(300) });
        var e = await Assert.ThrowsAsync<ArmLinkException>(() => link.ConnectAsync(CancellationToken.None));
        Assert.Contains("/nonexistent/tty", e.Message);
        Assert.Contains("No such file or directory", e.Message);
    }

    [Theory]
    [InlineData(115200, 0x1002u)]   // B115200
    [InlineData(1000000, 0x1008u)]  // B1000000
    public async Task Open_configures_raw_8N1_at_the_requested_speed(int baud, uint speedCode)
    {
        using var dir = new TempDir();
        using var pty = new PtyPair(dir.Path);
        await pty.StartAsync();
        using var port = SerialPort.Open(pty.A, baud);
        var t = port.GetAttributes();
        const uint CBAUD = 0x100F, ICANON = 0x2, ECHO = 0x8, ISIG = 0x1, OPOST = 0x1, ICRNL = 0x100, IXON = 0x400;
        Assert.Equal(speedCode, t.c_cflag & CBAUD);
        Assert.Equal(0x30u, t.c_cflag & 0x30);            // CS8
        Assert.Equal(0u, t.c_cflag & (0x100u | 0x40u));   // no parity, one stop bit
        Assert.Equal(0x800u | 0x80u, t.c_cflag & (0x800u | 0x80u)); // CLOCAL | CREAD
        Assert.Equal(0u, t.c_lflag & (ICANON | ECHO | ISIG));
        Assert.Equal(0u, t.c_oflag & OPOST);
        Assert.Equal(0u, t.c_iflag & (ICRNL | IXON));
        unsafe { Assert.Equal((0, 0), (t.c_cc[6], t.c_cc[5])); } // VMIN, VTIME: poll() carries the timeouts
    }

    [Fact]
    public void A_regular_file_is_refused_as_not_a_terminal()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("plain"), "x");
        var e = Assert.Throws<SerialPortException>(() => SerialPort.Open(dir.File("plain"), 115200));
        Assert.Contains("not a terminal", e.Message);
    }

    [Fact]
    public void A_nonstandard_baud_is_refused_with_the_choices()
    {
        var e = Assert.Throws<ArgumentException>(() => new SerialLinkOptions { Device = "/dev/null", Baud = 12345 }.Validate());
        Assert.Contains("12345", e.Message);
        Assert.Contains("1000000", e.Message);
    }
}
