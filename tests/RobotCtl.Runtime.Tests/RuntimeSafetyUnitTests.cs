using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using RobotCtl.Core.Arm;
using RobotCtl.Core.Timing;
using RobotCtl.Hardware;
using RobotCtl.Hardware.Links;
using RobotCtl.Hardware.Safety;
using RobotCtl.Runtime;
using RobotCtl.Runtime.Composition;

namespace RobotCtl.Runtime.Tests;

/// <summary>
/// The runtime's safety pieces without transports: the link-loss deadline and the link events on synthetic time, the
/// e-stop latch and its arm-side frames, the streamer driving the governor's watchdog, the camera/arm check.
/// </summary>
public class RuntimeSafetyUnitTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);
    private static long Ms(double ms) => MonotonicClock.FromTimeSpan(TimeSpan.FromMilliseconds(ms));

    /// <summary>An arm link whose state, status and events the test sets; counts sends and e-stop frames.</summary>
    private sealed class FakeLink : IArmLink, IArmEStop
    {
        private readonly Lock _gate = new();
        private ArmState _state;
        private bool _hasState;
        public Func<long>? StampNow { get; init; }
        /// <summary>How long a state read takes: a streamer preempted (GC, a loaded machine) while a new state arrives.</summary>
        public TimeSpan ReadDelay { get; init; }
        public ConcurrentQueue<EeCommand> Sent { get; } = new();
        public int EStops, Rearms;
        public string Description => "fake /dev/ttyFAKE @ 1";
        public ArmLinkStatus Status { get; set; } = ArmLinkStatus.Online;
        public event Action<ArmLinkEvent>? EventRaised;
        public Task ConnectAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public bool TrySend(in EeCommand command) { Sent.Enqueue(command); return true; }
        public bool TryGetLatestState(out ArmState state)
        {
            if (ReadDelay > TimeSpan.Zero) Thread.Sleep(ReadDelay);
            if (StampNow is { } now) { state = new ArmState(0, 0, 0.1, 0, 0, 0, 0, now(), 1); return true; }
            lock (_gate) { state = _state; return _hasState; }
        }
        public void SetState(long stamp, uint sequence) { lock (_gate) { _state = new ArmState(0, 0, 0.1, 0, 0, 0, 0, stamp, sequence); _hasState = true; } }
        public void Raise(ArmLinkStatus status, string message) { Status = status; EventRaised?.Invoke(new ArmLinkEvent(status, message, 1)); }
        public bool SendEStop() { Interlocked.Increment(ref EStops); return true; }
        public bool SendRearm() { Interlocked.Increment(ref Rearms); return true; }
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public void Link_loss_is_reported_after_the_configured_silence_and_not_before()
    {
        var link = new FakeLink();
        var t0 = Ms(1_000_000);
        var monitor = new LinkMonitor(link, TimeSpan.FromSeconds(3), null, NullLogger.Instance, t0);

        Assert.False(monitor.IsLost(t0 + Ms(2900)));          // no state yet: counted from the start
        Assert.True(monitor.IsLost(t0 + Ms(3100)));
        link.SetState(t0 + Ms(3050), 1);                       // a fresh state
        Assert.False(monitor.IsLost(t0 + Ms(3100)));
        Assert.False(monitor.IsLost(t0 + Ms(6000)));
        Assert.True(monitor.IsLost(t0 + Ms(6100)));            // the same state again is not fresh
        var message = monitor.LossMessage(t0 + Ms(6100));
        Assert.Contains("arm fake /dev/ttyFAKE @ 1: no state for 3.0 s", message);
        Assert.Contains("stopping", message);
    }

    [Fact]
    public void A_state_stamped_in_the_future_does_not_keep_a_dead_link_alive()
    {
        var link = new FakeLink();
        var t0 = Ms(1_000_000);
        var monitor = new LinkMonitor(link, TimeSpan.FromSeconds(1), null, NullLogger.Instance, t0);
        link.SetState(t0 + Ms(3_600_000), 1);                  // an hour ahead
        Assert.False(monitor.IsLost(t0 + Ms(500)));
        Assert.True(monitor.IsLost(t0 + Ms(1600)));           // counted from when it was seen, not from its stamp
    }

    [Fact]
    public void Link_events_count_a_disconnect_and_a_reconnect_once_each_and_stop_after_dispose()
    {
        var link = new FakeLink();
        var monitor = new LinkMonitor(link, TimeSpan.FromSeconds(3), null, NullLogger.Instance, Ms(1));
        link.Raise(ArmLinkStatus.Online, "peer reports Holding");       // not a status change
        link.Raise(ArmLinkStatus.Disconnected, "device lost (EIO)");
        link.Raise(ArmLinkStatus.Disconnected, "still down");
        link.Raise(ArmLinkStatus.Connecting, "reopening");
        link.Raise(ArmLinkStatus.Online, "open");
        Assert.Equal(1, monitor.Disconnects);
        Assert.Equal(1, monitor.Reconnects);
        monitor.Dispose();
        link.Raise(ArmLinkStatus.Disconnected, "closed");
        Assert.Equal(1, monitor.Disconnects);
    }

    [Fact]
    public void A_silence_that_ends_the_run_is_one_link_loss_whether_or_not_the_link_reported_it()
    {
        var silent = new FakeLink();
        var monitor = new LinkMonitor(silent, TimeSpan.FromSeconds(3), null, NullLogger.Instance, Ms(1));
        monitor.RecordLoss("arm fake: no state for 3.1 s");
        Assert.Equal(1, monitor.Disconnects);
        silent.Raise(ArmLinkStatus.Disconnected, "device lost (EIO)"); // the same loss, noticed later by the link
        Assert.Equal(1, monitor.Disconnects);

        var reported = new FakeLink();
        var other = new LinkMonitor(reported, TimeSpan.FromSeconds(3), null, NullLogger.Instance, Ms(1));
        reported.Raise(ArmLinkStatus.Disconnected, "device lost (EIO)");
        other.RecordLoss("arm fake: no state for 3.1 s");
        Assert.Equal(1, other.Disconnects);
    }

    [Fact]
    public void The_estop_latches_the_governor_and_the_arm_side_once_and_only_an_explicit_release_rearms()
    {
        var now = Ms(1_000_000);
        var link = new FakeLink();
        var governor = new SafetyGovernor(RigCalibration.Load(Path.Combine(RuntimeTestHome.Root, "calibration", "default")).Limits, () => now);
        var chunks = new ActionChunkStream(4, 7);
        chunks.Publish(new float[4 * 7], 4, long.MaxValue, 1);
        var estop = new EStopController(governor, link, chunks, null, NullLogger.Instance);

        Assert.Contains("latched", estop.Latch("test"));
        Assert.Contains("already latched", estop.Latch("test again"));
        Assert.True(governor.IsEStopped);
        Assert.Equal(1, link.EStops);
        Assert.Equal(0, chunks.Remaining);
        var state = new ArmState(0, 0, 0.1, 0, 0, 0, 0, now, 1);
        var g = governor.Govern(new EeCommand(0.01f, 0, 0, 0, 0, 0, 0), true, state, now);
        Assert.True(g.Command.IsHold);
        Assert.True(g.Has(GovernorFlags.EStopLatched));

        Assert.Contains("released", estop.Release("test"));
        Assert.False(governor.IsEStopped);
        Assert.Equal(1, link.Rearms);
        Assert.Contains("not latched", estop.Release("twice"));
        Assert.Equal(1, link.Rearms);
    }

    [Fact]
    public async Task The_streamer_drives_the_governor_watchdog_when_it_has_nothing_fresh_to_send()
    {
        var link = new FakeLink { StampNow = () => MonotonicClock.Now };
        var limits = RigCalibration.Load(Path.Combine(RuntimeTestHome.Root, "calibration", "default")).Limits;
        var governor = new SafetyGovernor(limits);
        var chunks = new ActionChunkStream(3, 7);
        var mapping = RigCalibration.Load(Path.Combine(RuntimeTestHome.Root, "calibration", "default")).Mapping;
        using var streamer = new CommandStreamer(chunks, governor, link, mapping, 20, NullLogger.Instance);
        var actions = new float[3 * 7];
        for (var i = 0; i < 3; i++) actions[i * 7] = 0.005f;
        chunks.Publish(actions, 3, MonotonicClock.Now + Ms(60_000), 1);
        streamer.Start();

        // The three actions go out, then nothing is fresh: the watchdog fires and hold is sent.
        await WaitUntil(() => governor.CountOf(GovernorFlags.WatchdogExpired) >= 1 && link.Sent.Count(c => c.IsHold) >= 1, "the governor's watchdog hold");
        var sent = link.Sent.ToArray();
        Assert.Equal(3, sent.TakeWhile(c => !c.IsHold).Count());
        Assert.All(sent.Skip(3), c => Assert.True(c.IsHold));
    }

    [Fact]
    public async Task A_state_that_arrives_while_the_streamer_is_preempted_still_vouches_for_the_command()
    {
        // The read takes 120 ms, past the governor's 50 ms future tolerance: judged at the tick's start, the fresh state
        // would look like one from the future and every planned action would be refused (hold).
        var link = new FakeLink { StampNow = () => MonotonicClock.Now, ReadDelay = TimeSpan.FromMilliseconds(120) };
        var calibration = RigCalibration.Load(Path.Combine(RuntimeTestHome.Root, "calibration", "default"));
        var governor = new SafetyGovernor(calibration.Limits);
        var chunks = new ActionChunkStream(3, 7);
        using var streamer = new CommandStreamer(chunks, governor, link, calibration.Mapping, 20, NullLogger.Instance);
        var actions = new float[3 * 7];
        for (var i = 0; i < 3; i++) actions[i * 7] = 0.005f;
        chunks.Publish(actions, 3, MonotonicClock.Now + Ms(60_000), 1);
        streamer.Start();

        await WaitUntil(() => chunks.Completed >= 3, "the three actions");
        Assert.Equal(0, governor.CountOf(GovernorFlags.StaleState));
        Assert.Equal(0, governor.CountOf(GovernorFlags.RateLimited));
        Assert.Equal(3, link.Sent.Count(c => !c.IsHold));
    }

    [Fact]
    public void A_sim_camera_with_a_real_arm_is_refused_unless_allowed_or_the_workcell_is_shared()
    {
        var runtime = new RuntimeOptions { Camera = "sim", Arm = "arm-usb" };
        var e = Assert.Throws<ConfigurationValueException>(() => new SafetyOptions().CheckCameraMatchesArm(runtime, armIsSimulated: false, sharedWorkcell: false));
        Assert.Contains("Safety:AllowUnlinkedCamera", e.Message);
        Assert.Contains("arm-usb", e.Message);
        new SafetyOptions { AllowUnlinkedCamera = true }.CheckCameraMatchesArm(runtime, armIsSimulated: false, sharedWorkcell: false);
        new SafetyOptions().CheckCameraMatchesArm(runtime, armIsSimulated: false, sharedWorkcell: true);
        new SafetyOptions().CheckCameraMatchesArm(new RuntimeOptions { Camera = "sim", Arm = "sim" }, armIsSimulated: true, sharedWorkcell: false);
        new SafetyOptions().CheckCameraMatchesArm(new RuntimeOptions { Camera = "/dev/video0", Arm = "arm-usb" }, armIsSimulated: false, sharedWorkcell: false);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("NaN")]
    [InlineData("1e9")]
    public void A_bad_link_loss_time_is_refused_naming_its_key(string value)
    {
        var configuration = AppConfiguration.Build([new("Safety:LinkLossMs", value)], settingsFile: "/nonexistent/appsettings.json");
        var e = Assert.Throws<ConfigurationValueException>(() => RunSettings.From(configuration));
        Assert.Contains("Safety:LinkLossMs", e.Message);
    }

    [Fact]
    public void The_link_loss_time_defaults_to_three_seconds()
    {
        var configuration = AppConfiguration.Build([], settingsFile: "/nonexistent/appsettings.json");
        Assert.Equal(3000, RunSettings.From(configuration).Safety.LinkLossMs);
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > Generous) throw new TimeoutException($"timed out waiting for {what}");
            await Task.Delay(10);
        }
    }
}
