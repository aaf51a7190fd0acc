using System.Diagnostics;

namespace RobotCtl.Runtime;

/// <summary>
/// Times the sections of each control cycle and keeps a fixed-size history of every section for percentiles,
/// without allocating per cycle (ring buffers sized once). It also attributes the managed bytes the calling thread
/// allocates to each section, so a cycle that allocates says where; a cycle's bytes join the totals only when the
/// caller commits them (after warm-up, and only for cycles whose own count is certain: see AllocationWindow).
/// </summary>
public sealed class SectionTimer
{
    public static readonly int SectionCount = Enum.GetValues<Section>().Length;

    private readonly double[][] _history;
    private readonly double[] _current = new double[SectionCount];
    private readonly double[] _scratch;
    private readonly long[] _allocated = new long[SectionCount];
    private readonly long[] _cycleAllocated = new long[SectionCount];
    private int _count;
    private long _started;
    private long _allocatedAtStart;

    public SectionTimer(int historyLength = 4096)
    {
        _history = new double[SectionCount][];
        for (var i = 0; i < SectionCount; i++) _history[i] = new double[historyLength];
        _scratch = new double[historyLength];
    }

    /// <summary>Durations (ms) of the current cycle's sections, indexed by <see cref="Section"/>.</summary>
    public ReadOnlySpan<double> Current => _current;

    public int Cycles => _count;

    public void BeginCycle()
    {
        Array.Clear(_current);
        Array.Clear(_cycleAllocated);
    }

    public void Start()
    {
        _allocatedAtStart = GC.GetAllocatedBytesForCurrentThread();
        _started = Stopwatch.GetTimestamp();
    }

    /// <summary>Ends the section started by the last <see cref="Start"/> and adds its time (ms) to the current cycle.</summary>
    public double Stop(Section section)
    {
        var ms = Stopwatch.GetElapsedTime(_started).TotalMilliseconds;
        _current[(int)section] += ms;
        _cycleAllocated[(int)section] += GC.GetAllocatedBytesForCurrentThread() - _allocatedAtStart;
        return ms;
    }

    /// <summary>Adds the current cycle's per-section allocations to <see cref="AllocatedBytes"/>.</summary>
    public void CommitAllocations()
    {
        for (var i = 0; i < SectionCount; i++) _allocated[i] += _cycleAllocated[i];
    }

    /// <summary>Managed bytes the timing thread allocated inside <paramref name="section"/> in the committed cycles.</summary>
    public long AllocatedBytes(Section section) => _allocated[(int)section];

    /// <summary>Commits the current cycle into the history.</summary>
    public void EndCycle()
    {
        var slot = _count % _history[0].Length;
        for (var i = 0; i < SectionCount; i++) _history[i][slot] = _current[i];
        _count++;
    }

    /// <summary>Percentile (0..100) of a section over the kept history; NaN before the first cycle.</summary>
    public double Percentile(Section section, double percentile)
    {
        var n = Math.Min(_count, _history[0].Length);
        if (n == 0) return double.NaN;
        var values = _scratch.AsSpan(0, n);
        _history[(int)section].AsSpan(0, n).CopyTo(values);
        values.Sort();
        var rank = Math.Clamp(percentile / 100.0 * (n - 1), 0, n - 1);
        var lo = (int)Math.Floor(rank);
        var hi = (int)Math.Ceiling(rank);
        return values[lo] + (values[hi] - values[lo]) * (rank - lo);
    }
}
