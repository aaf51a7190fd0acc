using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RobotCtl.Core.Arm;
using RobotCtl.Core.Timing;
using RobotCtl.Hardware.Safety;

namespace RobotCtl.Runtime;

/// <summary>
/// Sends one low-level command per tick at a fixed rate, on its own thread, paced on absolute deadlines:
/// the next action of the current chunk (mapped to the robot frame) through the safety governor; a tick with nothing
/// fresh (chunk empty or expired) drives the governor's watchdog instead (<see cref="SafetyGovernor.Tick(long)"/>),
/// which sends hold once no command has gone out for the limits' commandWatchdogMs. Ticks that start late are counted
/// as overruns and the schedule re-anchors instead of bursting to catch up. For every action it takes it reports back
/// to the chunk stream's execution log what the arm was really sent (<see cref="ActionChunkStream.Complete"/>).
/// </summary>
public sealed class CommandStreamer : IDisposable
{
    private readonly ActionChunkStream _chunks;
    private readonly SafetyGovernor _governor;
    private readonly IArmLink _arm;
    private readonly ActionMapping _mapping;
    private readonly long _periodTicks;
    private readonly ILogger _logger;
    private readonly Action<StreamedCommand>? _observer;
    private readonly float[] _action, _executed;
    private readonly double[] _jitterMs = new double[8192];
    private readonly double[] _frameToCommandMs = new double[4096];
    private long _latencies;
    private Thread? _thread;
    private volatile bool _running;
    private long _ticks, _overruns, _holds, _undelivered;

    public CommandStreamer(ActionChunkStream chunks, SafetyGovernor governor, IArmLink arm, ActionMapping mapping,
        double rateHz, ILogger logger, Action<StreamedCommand>? observer = null)
    {
        _chunks = chunks;
        _governor = governor;
        _arm = arm;
        _mapping = mapping;
        _periodTicks = MonotonicClock.FromTimeSpan(TimeSpan.FromSeconds(1.0 / rateHz));
        _logger = logger;
        _observer = observer;
        _action = new float[chunks.ActionDim];
        _executed = new float[chunks.ActionDim];
    }

    public TimeSpan Period => TimeSpan.FromSeconds((double)_periodTicks / Stopwatch.Frequency);
    public long Ticks => Interlocked.Read(ref _ticks);
    public long Overruns => Interlocked.Read(ref _overruns);
    public long Holds => Interlocked.Read(ref _holds);
    public long Undelivered => Interlocked.Read(ref _undelivered);

    public void Start()
    {
        if (_thread is not null) return;
        _running = true;
        _thread = new Thread(Run) { IsBackground = true, Name = "robotctl-command-streamer", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    /// <summary>Stops the thread after one last hold, so the arm is left still.</summary>
    public void Stop()
    {
        if (_thread is null) return;
        _running = false;
        _thread.Join();
        _thread = null;
        _chunks.Clear();
        SendOne(MonotonicClock.Now, ref _ticks, finalHold: true);
    }

    /// <summary>Tick-start lateness percentile (ms) over the last ticks: the control-rate jitter.</summary>
    public double JitterPercentile(double percentile) => Percentile(_jitterMs, Ticks, percentile);

    /// <summary>
    /// Percentile (ms) of the time from the capture of the frame a plan was made from to the arm being sent that
    /// plan's first command.
    /// </summary>
    public double FrameToCommandPercentile(double percentile) => Percentile(_frameToCommandMs, Interlocked.Read(ref _latencies), percentile);

    private static double Percentile(double[] ring, long count, double percentile)
    {
        var n = (int)Math.Min(count, ring.Length);
        if (n == 0) return double.NaN;
        var copy = ring.AsSpan(0, n).ToArray();
        Array.Sort(copy);
        return copy[(int)Math.Clamp(Math.Round(percentile / 100.0 * (n - 1)), 0, n - 1)];
    }

    private void Run()
    {
        var next = MonotonicClock.Now;
        var previous = next - _periodTicks;
        while (_running)
        {
            // Never less than a period after the previous tick: a late tick followed by an on-time one would come
            // faster than the rate, and a governor limiting that rate would refuse it, dropping a planned action.
            next = Math.Max(next + _periodTicks, previous + _periodTicks);
            SleepUntil(next);
            var now = MonotonicClock.Now;
            var late = now - next;
            _jitterMs[_ticks % _jitterMs.Length] = MonotonicClock.TicksToMs(late);
            if (late > _periodTicks)
            {
                Interlocked.Increment(ref _overruns);
                next = now; // re-anchor: never burst commands to catch up
            }
            try
            {
                previous = SendOne(now, ref _ticks);
            }
            catch (Exception e)
            {
                // The streamer must outlive any single failure; the governor keeps the arm safe meanwhile.
                previous = MonotonicClock.Now; // no earlier than anything the governor may have transmitted
                _logger.LogError(e, "command streamer tick failed; holding");
            }
        }
    }

    /// <param name="now">The tick's start: what the chunk's deadline is judged against.</param>
    /// <param name="finalHold">The stop's explicit hold, governed like a command (the arm is left still on purpose).</param>
    /// <returns>When the governor decided: the time the next tick is spaced from.</returns>
    private long SendOne(long now, ref long tick, bool finalHold = false)
    {
        EeCommand requested;
        var taken = _chunks.TryTake(now, _action, out var position);
        if (taken)
            requested = _mapping.ToRobot(_action);
        else
        {
            requested = EeCommand.Hold;
            Interlocked.Increment(ref _holds);
        }
        GovernedCommand governed;
        var delivered = false;
        var decided = now;
        try
        {
            if (taken || finalHold)
            {
                var hasState = _arm.TryGetLatestState(out var state);
                // Judged at a time taken after the state was read: a state stamped while this thread was preempted
                // (GC, a loaded machine) would otherwise look like one from the future and the command would be refused.
                decided = MonotonicClock.Now; // monotonic: never before now
                governed = _governor.Govern(requested, hasState, state, decided);
            }
            else
            {
                // Nothing fresh: a hold through Govern would count as a command and keep the watchdog from ever firing.
                governed = _governor.Tick(now);
            }
            if (governed.Transmit)
            {
                delivered = _arm.TrySend(governed.Command);
                if (!delivered) Interlocked.Increment(ref _undelivered);
            }
        }
        catch
        {
            // What reached the arm for this action is not known: the loop's context history never reaches across it.
            if (taken) _chunks.Complete(position.Serial, default, MonotonicClock.Now, known: false);
            throw;
        }
        if (taken)
        {
            // What the arm was really sent, back in the model's action frame (a refusal, a hold or a command the link
            // refused is zero motion): the executed action the loop's context history is made of.
            _mapping.ToModel(delivered ? governed.Command : EeCommand.Hold, _executed);
            _chunks.Complete(position.Serial, _executed, MonotonicClock.Now);
        }
        if (taken && position.Index == 0 && position.SourceTicks != 0)
            _frameToCommandMs[(Interlocked.Increment(ref _latencies) - 1) % _frameToCommandMs.Length] = MonotonicClock.TicksToMs(MonotonicClock.Now - position.SourceTicks);
        var n = Interlocked.Increment(ref tick);
        _observer?.Invoke(new StreamedCommand(n, now, position.PlanId, taken ? position.Index : -1, requested, governed, delivered));
        return decided;
    }

    private static void SleepUntil(long deadline)
    {
        // Sleep most of the way, then yield-spin the last stretch: Thread.Sleep alone overshoots by up to a timer slice.
        while (true)
        {
            var remaining = MonotonicClock.TicksToMs(deadline - MonotonicClock.Now);
            if (remaining <= 0) return;
            if (remaining > 2) Thread.Sleep((int)(remaining - 1.5));
            else Thread.Yield();
        }
    }

    public void Dispose() => Stop();
}
