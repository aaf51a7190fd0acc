using Microsoft.Extensions.Logging;
using RobotCtl.Core.Arm;
using RobotCtl.Core.Timing;
using RobotCtl.Episodes;
using RobotCtl.Hardware.Links;

namespace RobotCtl.Runtime;

/// <summary>
/// Watches the arm link for the runtime: records the link's disconnects and reconnects (raised on a link thread) as
/// episode events, and tells the control loop when no fresh arm state has arrived for <see cref="LossAfter"/>, which
/// ends the run as a fault. A state counts as fresh when its stamp or sequence differs from the last one seen; its
/// time is its stamp, never later than when it was first seen (a future stamp cannot keep a dead link alive).
/// <see cref="IsLost"/> allocates nothing (the loop calls it every cycle).
/// </summary>
public sealed class LinkMonitor : IDisposable
{
    private readonly IArmLink _arm;
    private readonly EpisodeRecorder? _recorder;
    private readonly ILogger _logger;
    private readonly long _lossTicks;
    private readonly Lock _gate = new();
    private readonly long _startTicks;
    private long _freshTicks, _lastStamp;
    private uint _lastSequence;
    private bool _seenAny, _down, _robotOffline, _disposed;
    private long _disconnects, _reconnects;

    /// <param name="nowTicks"><see cref="MonotonicClock"/> ticks when the watch starts (tests: synthetic time).</param>
    public LinkMonitor(IArmLink arm, TimeSpan lossAfter, EpisodeRecorder? recorder, ILogger logger, long nowTicks)
    {
        if (lossAfter <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(lossAfter), lossAfter, "must be > 0");
        _arm = arm;
        _recorder = recorder;
        _logger = logger;
        LossAfter = lossAfter;
        _lossTicks = MonotonicClock.FromTimeSpan(lossAfter);
        _startTicks = _freshTicks = nowTicks;
        _down = arm.Status is ArmLinkStatus.Disconnected or ArmLinkStatus.Faulted;
        arm.EventRaised += OnLinkEvent;
    }

    public TimeSpan LossAfter { get; }

    /// <summary>The loop's current step, for the episode events (set by whoever runs the loop).</summary>
    public Func<long> CurrentStep { get; set; } = () => -1;

    public long Disconnects => Interlocked.Read(ref _disconnects);
    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>True when no fresh state has arrived for <see cref="LossAfter"/> before <paramref name="nowTicks"/>.</summary>
    public bool IsLost(long nowTicks) => SilentTicks(nowTicks) > _lossTicks;

    /// <summary>How long the arm has been silent at <paramref name="nowTicks"/>.</summary>
    public TimeSpan Silence(long nowTicks) => TimeSpan.FromMilliseconds(MonotonicClock.TicksToMs(SilentTicks(nowTicks)));

    /// <summary>The fault in words, naming the link (allocates: call it once, when stopping).</summary>
    public string LossMessage(long nowTicks) =>
        $"arm {_arm.Description}: no state for {Silence(nowTicks).TotalSeconds:F1} s (limit {LossAfter.TotalSeconds:F1} s, Safety:LinkLossMs); stopping";

    private long SilentTicks(long nowTicks)
    {
        if (_arm.TryGetLatestState(out var state) && (!_seenAny || state.TimestampTicks != _lastStamp || state.Sequence != _lastSequence))
        {
            _seenAny = true;
            _lastStamp = state.TimestampTicks;
            _lastSequence = state.Sequence;
            _freshTicks = Math.Max(_startTicks, Math.Min(state.TimestampTicks, nowTicks));
        }
        return nowTicks - _freshTicks;
    }

    private void OnLinkEvent(ArmLinkEvent e)
    {
        EpisodeEventKind? kind = null;
        lock (_gate)
        {
            if (_disposed) return;
            var down = e.Status is ArmLinkStatus.Disconnected or ArmLinkStatus.Faulted;
            if (down && !_down) kind = EpisodeEventKind.Disconnect;
            else if (e.Status == ArmLinkStatus.Online && _down) kind = EpisodeEventKind.Reconnect;
            if (e.Status != ArmLinkStatus.Connecting) _down = down;
            // Over MQTT the broker can stay up while the arm goes (its last will says "offline"): that is the arm's disconnect.
            if (_arm is MqttArmLink mqtt && kind is null)
            {
                var offline = mqtt.RobotStatus == "offline";
                if (offline && !_robotOffline) kind = EpisodeEventKind.Disconnect;
                else if (!offline && _robotOffline && mqtt.RobotStatus == "online") kind = EpisodeEventKind.Reconnect;
                if (mqtt.RobotStatus is "offline" or "online") _robotOffline = offline;
            }
        }
        if (kind is not { } k) return;
        if (k == EpisodeEventKind.Disconnect) Interlocked.Increment(ref _disconnects);
        else Interlocked.Increment(ref _reconnects);
        _recorder?.RecordEvent(CurrentStep(), k, $"arm {_arm.Description}: {e.Message}");
        _logger.LogWarning("arm {Kind}: {Message}", k == EpisodeEventKind.Disconnect ? "disconnected" : "reconnected", e.Message);
    }

    /// <summary>
    /// The run ends because the link went silent (<paramref name="message"/>: <see cref="LossMessage"/>): that is one loss
    /// of the link, counted and recorded as a <see cref="EpisodeEventKind.Disconnect"/> unless the link already reported
    /// its disconnect. A link can stay open while the arm behind it stops answering (a hung arm server, a broker that
    /// outlives its arm), and such a loss used to end the run with "link lost 0".
    /// </summary>
    public void RecordLoss(string message)
    {
        lock (_gate)
        {
            if (_disposed || _down || _robotOffline) return;
            _down = true; // a disconnect the link reports from now on is this same loss
        }
        Interlocked.Increment(ref _disconnects);
        _recorder?.RecordEvent(CurrentStep(), EpisodeEventKind.Disconnect, message);
    }

    /// <summary>Stops recording link events (before the episode is closed and the link is disposed).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _arm.EventRaised -= OnLinkEvent;
    }
}
