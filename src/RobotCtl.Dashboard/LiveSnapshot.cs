using RobotCtl.Core.Diagnostics;
using RobotCtl.Core.Vision;
using RobotCtl.Runtime;

namespace RobotCtl.Dashboard;

/// <summary>
/// What the live page shows of a run, copied out of the control loop once per cycle: the latest report, frame and
/// plan costs and a bounded history for the charts. The copy runs on the loop thread inside
/// <see cref="ControlLoop.CycleCompleted"/>, into buffers made once, so it allocates nothing after the first cycle;
/// everything costly (encoding images, JSON) happens on the HTTP side, on request, from a copy taken under the lock.
/// </summary>
public sealed class LiveSnapshot : IDisposable
{
    /// <summary>Cycles kept for the charts (older ones are overwritten).</summary>
    public const int HistoryLength = 600;

    public const int ActionDim = 7;

    private const int MaxIterations = 1024;

    private readonly ControlLoop _loop;
    private readonly Lock _gate = new();
    private readonly Action<CycleReport> _handler;
    private readonly int[] _steps = new int[HistoryLength];
    private readonly double[] _distance = new double[HistoryLength];
    private readonly double[] _planMs = new double[HistoryLength];
    private readonly double[] _surprise = new double[HistoryLength];
    private readonly float[] _actions = new float[HistoryLength * ActionDim];
    private readonly float[] _costs = new float[MaxIterations];
    private byte[] _pixels;
    private int _width, _height, _costCount;
    private long _frameSequence, _cycles;
    private CycleReport _last;

    public LiveSnapshot(ControlLoop loop)
    {
        _loop = loop;
        var frame = loop.LastFrame;
        _pixels = new byte[frame.Pixels.Length];
        _handler = OnCycle; // one delegate, made here, so subscribing and raising never allocate per cycle
        loop.CycleCompleted += _handler;
    }

    /// <summary>Cycles seen so far; changes whenever there is something new to show.</summary>
    public long Version => Interlocked.Read(ref _cycles);

    private void OnCycle(CycleReport report)
    {
        // The loop's own accounting ends before CycleCompleted is raised, so this copy measures itself.
        var allocation = AllocationWindow.Open();
        var frame = _loop.LastFrame;
        var plan = _loop.LastPlan;
        // Never a blocking wait on the loop thread: a contended Lock may allocate its wait event and park the thread.
        // The HTTP side holds the lock only for a buffer copy (microseconds), so spinning (no sleeping) is enough.
        var spinner = new SpinWait();
        while (!_gate.TryEnter()) spinner.SpinOnce(sleep1Threshold: -1);
        try
        {
            // Only when the camera's size differs from the model's (the first cycle): never in steady state.
            if (_pixels.Length != frame.Pixels.Length) _pixels = new byte[frame.Pixels.Length];
            frame.Pixels.AsSpan().CopyTo(_pixels);
            _width = frame.Width;
            _height = frame.Height;
            _frameSequence = frame.Sequence;
            var costs = plan.BestCostPerIteration;
            _costCount = Math.Min(costs.Length, MaxIterations);
            costs[.._costCount].CopyTo(_costs);
            var slot = (int)(_cycles % HistoryLength);
            _steps[slot] = report.Step;
            _distance[slot] = report.GoalDistance;
            _planMs[slot] = report.PlanMs;
            _surprise[slot] = report.Surprise;
            var actions = _actions.AsSpan(slot * ActionDim, ActionDim);
            if (plan.Iterations > 0 && plan.ActionDim >= ActionDim) plan.Action(0)[..ActionDim].CopyTo(actions);
            else actions.Clear();
            _last = report;
            Interlocked.Increment(ref _cycles);
        }
        finally
        {
            _gate.Exit();
        }
        if (report.Step < ControlLoop.WarmupCycles) return;
        if (allocation.Read() is { } allocated)
        {
            SteadyAllocatedBytes += allocated;
            SteadyCycles++;
        }
        else UncertainCycles++;
    }

    /// <summary>Managed bytes the per-cycle copy allocated on the loop thread after the loop's warm-up cycles (should be 0).</summary>
    public long SteadyAllocatedBytes { get; private set; }

    /// <summary>Cycles counted in <see cref="SteadyAllocatedBytes"/>.</summary>
    public long SteadyCycles { get; private set; }

    /// <summary>Cycles after warm-up left out: a GC ran inside the copy and the count read nonzero (see AllocationWindow).</summary>
    public long UncertainCycles { get; private set; }

    /// <summary>The latest report; null before the first cycle.</summary>
    public CycleReport? Last
    {
        get { lock (_gate) return _cycles == 0 ? null : _last; }
    }

    /// <summary>Copies the latest frame into <paramref name="destination"/>; false before the first cycle.</summary>
    public bool CopyFrame(Frame destination, out long version)
    {
        lock (_gate)
        {
            version = _cycles;
            if (_cycles == 0) return false;
            destination.EnsureSize(_width, _height);
            _pixels.AsSpan(0, _width * _height * 3).CopyTo(destination.Pixels);
            destination.Sequence = _frameSequence;
            return true;
        }
    }

    /// <summary>A consistent copy of the charts' data (HTTP side; allocates).</summary>
    /// <param name="since">The <see cref="Version"/> a client already has: only newer cycles are returned.</param>
    public LiveHistory History(long since = 0)
    {
        lock (_gate)
        {
            var first = Math.Max(_cycles - HistoryLength, Math.Clamp(since, 0, _cycles));
            var n = (int)(_cycles - first);
            var h = new LiveHistory(_cycles, new int[n], new double?[n], new double?[n], new double?[n], new float[n][], _costs[.._costCount].ToArray());
            for (var i = 0; i < n; i++)
            {
                var slot = (int)((first + i) % HistoryLength);
                h.Steps[i] = _steps[slot];
                h.Distance[i] = Finite(_distance[slot]);
                h.PlanMs[i] = Finite(_planMs[slot]);
                h.Surprise[i] = Finite(_surprise[slot]);
                h.Actions[i] = _actions.AsSpan(slot * ActionDim, ActionDim).ToArray();
            }
            return h;
        }
    }

    internal static double? Finite(double v) => double.IsFinite(v) ? v : null;

    public void Dispose() => _loop.CycleCompleted -= _handler;
}
