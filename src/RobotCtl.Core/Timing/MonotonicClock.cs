using System.Diagnostics;

namespace RobotCtl.Core.Timing;

/// <summary>
/// The one monotonic time base of the runtime: <see cref="Stopwatch"/> ticks. Wall-clock time is only for
/// humans (episode metadata); every age, deadline and latency is measured on this clock.
/// </summary>
public static class MonotonicClock
{
    public static long Now => Stopwatch.GetTimestamp();

    public static TimeSpan Elapsed(long sinceTicks) => Stopwatch.GetElapsedTime(sinceTicks);

    public static double ElapsedMs(long sinceTicks) => Stopwatch.GetElapsedTime(sinceTicks).TotalMilliseconds;

    public static double TicksToMs(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    public static long FromTimeSpan(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}
