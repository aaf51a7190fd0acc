using RobotCtl.Core.Diagnostics;

namespace RobotCtl.Testing;

/// <summary>Managed bytes a call allocates on the calling thread, for "allocates nothing after warm-up" tests.</summary>
internal static class Allocations
{
    private const int Windows = 3;

    /// <summary>
    /// Runs <paramref name="body"/> <paramref name="times"/> times inside an <see cref="AllocationWindow"/> and returns
    /// the bytes the thread allocated. A window that a GC crossed with a nonzero count proves nothing either way (a
    /// background GC's bookkeeping reads as allocation), so it is run again, up to three windows; if all three were
    /// crossed, the last count is returned: an allocation that triggers a GC every time is a real one.
    /// </summary>
    public static long Of(Action body, int times = 1)
    {
        for (var window = 1; ; window++)
        {
            var allocation = AllocationWindow.Open();
            for (var i = 0; i < times; i++) body();
            if (allocation.Read() is { } bytes) return bytes;
            if (window == Windows) return allocation.CountedBytes;
        }
    }
}
