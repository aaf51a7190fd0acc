using Microsoft.Extensions.Logging.Abstractions;
using RobotCtl.Core.Arm;
using RobotCtl.Hardware.Protocol;
using RobotCtl.Hardware.Servers;

namespace RobotCtl.Hardware.Tests;

/// <summary>
/// A clock that moves only when told to. Its frequency (1 MHz) is deliberately not the Stopwatch's, so code that
/// mixes its timestamps with the monotonic clock's shows up as wrong results.
/// </summary>
internal sealed class ManualClock : TimeProvider
{
    private long _now = 5_000_000_000; // far from zero, like a machine that has been up a while

    public override long TimestampFrequency => 1_000_000;
    public override long GetTimestamp() => Interlocked.Read(ref _now);
    public ulong Micros => (ulong)GetTimestamp();
    public void Advance(TimeSpan by) => Interlocked.Add(ref _now, by.Ticks / 10);
}

/// <summary>
/// The arm side's watchdog, publish periods and freshness driven by a manual clock: no thread is started, every tick
/// is explicit, so the counts below are exact whatever the machine's load.
/// </summary>
public class ArmPeerTests
{
    private static readonly TimeSpan Ms = TimeSpan.FromMilliseconds(1);

    private sealed class Output : IPeerOutput
    {
        public readonly List<PeerStatus> Heartbeats = [];
        public int States;
        public readonly List<ushort> Errors = [];
        public void SendState(in ArmState state, uint lastAppliedSequence) => States++;
        public void SendHeartbeat(PeerStatus status) => Heartbeats.Add(status);
        public void SendError(ushort code, string message) => Errors.Add(code);
    }

    private sealed class Rig : IDisposable
    {
        private readonly byte[] _buffer = new byte[WireFrame.MaxFrameSize];
        private uint _sequence = 100;

        public Rig(ArmServerOptions? options = null)
        {
            Peer = new ArmPeer(Backend, options ?? new ArmServerOptions { Watchdog = 300 * Ms }, NullLogger.Instance, Out, "test", Clock);
        }

        public ManualClock Clock { get; } = new();
        public RecordingBackend Backend { get; } = new();
        public Output Out { get; } = new();
        public ArmPeer Peer { get; }

        /// <summary>A command sent now and received now (or sent <paramref name="sentAgo"/> earlier).</summary>
        public void Command(float dx = 0.001f, TimeSpan sentAgo = default)
        {
            var n = WireFrame.EncodeCommand(_buffer, ++_sequence, Clock.Micros - (ulong)(sentAgo.Ticks / 10), new EeCommand(dx, 0, 0, 0, 0, 0, 0));
            Deliver(n);
        }

        public void Control(MessageType type) => Deliver(WireFrame.Encode(_buffer, type, ++_sequence, Clock.Micros, []));

        private void Deliver(int length)
        {
            var decoder = new FrameDecoder();
            decoder.Feed(_buffer.AsSpan(0, length));
            Assert.True(decoder.TryDecode(out var frame));
            Peer.OnFrame(frame, Clock.GetTimestamp());
        }

        /// <summary>Moves the clock on in steps, ticking the peer after each, as its thread would.</summary>
        public void Run(TimeSpan duration, TimeSpan step)
        {
            for (var t = TimeSpan.Zero; t < duration; t += step)
            {
                Clock.Advance(step);
                Peer.Tick();
            }
        }

        public int HoldsApplied => Backend.Snapshot().Count(c => c.IsHold);

        public void Dispose() => Peer.Dispose();
    }

    [Fact]
    public void The_watchdog_holds_exactly_once_just_after_it_expires()
    {
        using var rig = new Rig();
        rig.Command();
        rig.Peer.Tick();
        Assert.False(rig.Peer.IsHolding);

        rig.Clock.Advance(300 * Ms); // exactly the watchdog: not yet expired
        rig.Peer.Tick();
        Assert.False(rig.Peer.IsHolding);
        Assert.Equal(0, rig.Peer.WatchdogHolds);

        rig.Clock.Advance(TimeSpan.FromTicks(10)); // one clock tick later it has
        rig.Peer.Tick();
        Assert.True(rig.Peer.IsHolding);
        Assert.Equal(1, rig.Peer.WatchdogHolds);
        Assert.True(rig.Backend.Snapshot()[^1].IsHold);
        Assert.Equal(PeerStatus.Holding, rig.Out.Heartbeats[^1]);

        // Silence goes on: the hold is applied once, not once per tick.
        rig.Run(TimeSpan.FromSeconds(10), 10 * Ms);
        Assert.Equal(1, rig.Peer.WatchdogHolds);
        Assert.Equal(1, rig.HoldsApplied);
        Assert.Equal(1, rig.Peer.Applied);
    }

    [Fact]
    public void Commands_closer_together_than_the_watchdog_never_hold_however_long_they_run()
    {
        using var rig = new Rig();
        for (var i = 0; i < 500; i++)
        {
            rig.Command();
            rig.Run(290 * Ms, 10 * Ms);
        }
        Assert.Equal(0, rig.Peer.WatchdogHolds);
        Assert.Equal(0, rig.HoldsApplied);
        Assert.Equal(500, rig.Peer.Applied);
        Assert.False(rig.Peer.IsHolding);
    }

    [Fact]
    public void A_stall_longer_than_the_watchdog_between_commands_holds_once_and_the_next_command_resumes()
    {
        // What a loaded machine does to a 50 Hz sender: five commands, then a stall past the watchdog, then more.
        using var rig = new Rig();
        for (var i = 0; i < 5; i++) { rig.Command(); rig.Run(20 * Ms, 5 * Ms); }
        rig.Run(350 * Ms, 5 * Ms);
        Assert.True(rig.Peer.IsHolding);
        Assert.Equal(1, rig.Peer.WatchdogHolds);

        rig.Command();
        Assert.False(rig.Peer.IsHolding);
        Assert.Equal(PeerStatus.Ok, rig.Peer.Status);
        Assert.Equal(6, rig.Peer.Applied);
        Assert.False(rig.Backend.Snapshot()[^1].IsHold);

        rig.Run(TimeSpan.FromSeconds(1), 5 * Ms);
        Assert.Equal(2, rig.Peer.WatchdogHolds);
        Assert.Equal(2, rig.HoldsApplied);
        // After each hold the arm received nothing but the hold until the next command.
        var applied = rig.Backend.Snapshot();
        Assert.Equal([false, false, false, false, false, true, false, true], applied.Select(c => c.IsHold));
    }

    [Fact]
    public void Before_the_first_command_the_arm_holds_and_the_watchdog_has_nothing_to_do()
    {
        using var rig = new Rig();
        rig.Run(TimeSpan.FromSeconds(5), 10 * Ms);
        Assert.True(rig.Peer.IsHolding);
        Assert.Equal(0, rig.Peer.WatchdogHolds);
        Assert.Empty(rig.Backend.Snapshot());
    }

    [Fact]
    public void A_stale_command_does_not_feed_the_watchdog()
    {
        using var rig = new Rig();
        rig.Command();
        rig.Run(200 * Ms, 10 * Ms);
        rig.Command(sentAgo: 400 * Ms); // older than MaxCommandAge (250 ms): sat in a queue somewhere
        Assert.Equal(1, rig.Peer.DroppedStale);
        rig.Run(110 * Ms, 10 * Ms); // 310 ms after the last fresh command
        Assert.True(rig.Peer.IsHolding);
        Assert.Equal(1, rig.Peer.WatchdogHolds);
        Assert.Equal(1, rig.Peer.Applied);
    }

    [Fact]
    public void E_stop_latches_a_hold_that_the_watchdog_does_not_count_again_and_rearm_needs_a_new_command()
    {
        using var rig = new Rig();
        rig.Command();
        rig.Control(MessageType.EStop);
        Assert.Equal(PeerStatus.EStopped, rig.Peer.Status);
        Assert.True(rig.Backend.Snapshot()[^1].IsHold);

        rig.Run(TimeSpan.FromSeconds(2), 10 * Ms);
        rig.Command();
        Assert.Equal(0, rig.Peer.WatchdogHolds);
        Assert.Equal(1, rig.Peer.Applied);
        Assert.Equal(1, rig.HoldsApplied);
        Assert.Equal([ArmPeer.ErrorEStopped], rig.Out.Errors);
        Assert.DoesNotContain(PeerStatus.Holding, rig.Out.Heartbeats); // every heartbeat while latched says EStopped
        Assert.DoesNotContain(PeerStatus.Ok, rig.Out.Heartbeats.SkipWhile(s => s != PeerStatus.EStopped));

        rig.Control(MessageType.Rearm);
        Assert.Equal(PeerStatus.Holding, rig.Peer.Status); // re-armed, but holding until the next command
        rig.Command();
        Assert.Equal(PeerStatus.Ok, rig.Peer.Status);
        Assert.Equal(2, rig.Peer.Applied);
    }

    [Fact]
    public void State_and_heartbeat_go_out_on_their_periods()
    {
        using var rig = new Rig(new ArmServerOptions { StateInterval = 50 * Ms, HeartbeatInterval = 200 * Ms });
        rig.Peer.Tick(); // the first tick publishes both
        Assert.Equal((1, 1), (rig.Out.States, rig.Out.Heartbeats.Count));
        rig.Clock.Advance(49 * Ms);
        rig.Peer.Tick();
        Assert.Equal((1, 1), (rig.Out.States, rig.Out.Heartbeats.Count));
        rig.Clock.Advance(1 * Ms);
        rig.Peer.Tick();
        Assert.Equal((2, 1), (rig.Out.States, rig.Out.Heartbeats.Count));

        rig.Run(950 * Ms, 10 * Ms); // to 1 s after the first tick
        Assert.Equal((21, 6), (rig.Out.States, rig.Out.Heartbeats.Count));
        Assert.All(rig.Out.Heartbeats, s => Assert.Equal(PeerStatus.Holding, s));

        rig.Command(); // an applied command publishes its state at once
        Assert.Equal(22, rig.Out.States);
    }
}
