using RobotCtl.Core.Diagnostics;

namespace RobotCtl.Core.Tests;

public class AllocationWindowTests
{
    [Fact]
    public void A_real_allocation_is_counted_to_the_byte()
    {
        long? bytes = null;
        for (var window = 0; window < 3 && bytes is null; window++)
        {
            var allocation = AllocationWindow.Open();
            var array = new byte[1000];
            bytes = allocation.Read();
            GC.KeepAlive(array);
        }
        Assert.Equal(1000 + 24, bytes); // 64-bit array: 16-byte header + 8-byte length, then the elements
    }

    [Fact]
    public void An_idle_window_never_reads_as_allocation_while_background_gcs_run()
    {
        // Another thread churns the large-object heap, which starts background GCs; each one retires this thread's
        // allocation buffer, and the raw counter then grows by the buffer's unused rest although nothing was allocated.
        var stop = false;
        var churn = new Thread(() =>
        {
            var kept = new List<byte[]>();
            while (!Volatile.Read(ref stop))
            {
                kept.Add(new byte[100_000]);
                if (kept.Count > 400) kept.RemoveRange(0, 200);
            }
        });
        var gen2Before = GC.CollectionCount(2);
        churn.Start();
        int windows = 0, misread = 0, uncertain = 0;
        long wrong = 0; // the first nonzero reading, if any
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(1.5))
            {
                var scratch = new byte[200]; // leaves part of the allocation buffer unused, as a working thread would
                var allocation = AllocationWindow.Open();
                Thread.Sleep(2);
                var bytes = allocation.Read();
                if (allocation.CountedBytes != 0) misread++;
                if (bytes is null) uncertain++;
                else if (bytes != 0 && wrong == 0) wrong = bytes.Value;
                windows++;
                GC.KeepAlive(scratch);
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            churn.Join();
        }

        Assert.True(GC.CollectionCount(2) > gen2Before, "the churn started no full GC: the test did not exercise anything");
        Assert.True(wrong == 0, $"a window read {wrong} B with nothing allocated ({windows} windows, {misread} raw misreads, {uncertain} uncertain)");
    }
}
