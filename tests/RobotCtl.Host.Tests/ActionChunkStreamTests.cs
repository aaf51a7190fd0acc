using RobotCtl.Runtime;

namespace RobotCtl.Host.Tests;

public class ActionChunkStreamTests
{
    private static float[] Chunk(int n) => Enumerable.Range(0, n * 7).Select(i => (float)i).ToArray();

    [Fact]
    public void Actions_are_taken_in_order_then_the_stream_holds()
    {
        var stream = new ActionChunkStream(10, 7);
        stream.Publish(Chunk(3), 3, validUntilTicks: long.MaxValue, planId: 1);
        Span<float> a = stackalloc float[7];
        for (var i = 0; i < 3; i++)
        {
            Assert.True(stream.TryTake(0, a, out var position));
            Assert.Equal(1, position.PlanId);
            Assert.Equal(i, position.Index);
            Assert.Equal(i * 7, a[0]);
        }
        Assert.False(stream.TryTake(0, a, out _));
        Assert.True(stream.WaitDrained(TimeSpan.Zero, CancellationToken.None));
    }

    [Fact]
    public void An_expired_chunk_never_sends_its_stale_tail()
    {
        var stream = new ActionChunkStream(10, 7);
        stream.Publish(Chunk(5), 5, validUntilTicks: 100, planId: 7);
        Span<float> a = stackalloc float[7];
        Assert.True(stream.TryTake(50, a, out _));
        Assert.False(stream.TryTake(101, a, out _));
        // Even if time went backwards (it cannot on the monotonic clock), the dropped tail stays dropped.
        Assert.False(stream.TryTake(60, a, out _));
        Assert.Equal(0, stream.Remaining);
    }

    [Fact]
    public void A_new_chunk_replaces_the_old_one_from_its_first_action()
    {
        var stream = new ActionChunkStream(10, 7);
        stream.Publish(Chunk(5), 5, long.MaxValue, 1);
        Span<float> a = stackalloc float[7];
        stream.TryTake(0, a, out _);
        var next = Chunk(2).Select(v => v + 1000).ToArray();
        stream.Publish(next, 2, long.MaxValue, 2);
        Assert.True(stream.TryTake(0, a, out var position));
        Assert.Equal((2L, 0, 1000f), (position.PlanId, position.Index, a[0]));
    }

    [Fact]
    public void Publishing_more_than_capacity_is_refused()
    {
        var stream = new ActionChunkStream(2, 7);
        Assert.Throws<ArgumentException>(() => stream.Publish(Chunk(3), 3, long.MaxValue, 1));
    }
}
