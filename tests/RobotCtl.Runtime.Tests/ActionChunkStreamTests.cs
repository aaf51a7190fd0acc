using RobotCtl.Core.Timing;
using RobotCtl.Runtime;

namespace RobotCtl.Runtime.Tests;

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

    // ---- the execution log (context history, issue 16) ----

    private static float[] Executed(float v) => [v, -v, 0, 0, 0, 0, 0];

    [Fact]
    public void Every_taken_action_gets_the_next_serial_and_the_log_keeps_what_was_reported_for_it()
    {
        var stream = new ActionChunkStream(10, 7, actionBlock: 2);
        Span<float> a = stackalloc float[7];
        var first = stream.Publish(Chunk(3), 3, long.MaxValue, planId: 1);
        Assert.Equal(1, first.FirstSerial);
        for (var i = 0; i < 3; i++)
        {
            Assert.True(stream.TryTake(0, a, out var position));
            Assert.Equal(i + 1, position.Serial);
            stream.Complete(position.Serial, Executed(i + 1), MonotonicClock.Now);
        }
        Assert.Equal((3L, 3L), (stream.Taken, stream.Completed));
        var second = stream.Publish(Chunk(2), 2, long.MaxValue, planId: 2);
        Assert.Equal(4, second.FirstSerial);
        Assert.NotEqual(first.Generation, second.Generation);

        var into = new float[2 * 7];
        Assert.True(stream.TryCopyExecuted(2, 2, into));
        Assert.Equal([2f, -2f, 0, 0, 0, 0, 0, 3f, -3f, 0, 0, 0, 0, 0], into);
        Assert.False(stream.TryCopyExecuted(3, 2, into));  // serial 4 was not taken yet
        Assert.True(stream.TryTake(0, a, out var fourth));
        Assert.False(stream.TryCopyExecuted(3, 2, into));  // taken, not yet reported
        stream.Complete(fourth.Serial, default, MonotonicClock.Now, known: false);
        Assert.False(stream.TryCopyExecuted(3, 2, into));  // its outcome is unknown: never part of a context
    }

    [Fact]
    public void A_frame_is_told_which_actions_it_shows_by_when_it_was_captured()
    {
        var stream = new ActionChunkStream(10, 7);
        Span<float> a = stackalloc float[7];
        var before = MonotonicClock.Now;
        Assert.Equal(0, stream.SerialAt(before)); // nothing executed yet
        stream.Publish(Chunk(3), 3, long.MaxValue, 1);
        stream.TryTake(0, a, out var p1);
        stream.Complete(p1.Serial, Executed(1), MonotonicClock.Now);
        Thread.Sleep(2);
        var afterFirst = MonotonicClock.Now;
        Thread.Sleep(2);
        stream.TryTake(0, a, out var p2);
        Thread.Sleep(2);
        var whileSecondIsOnItsWay = MonotonicClock.Now;
        Thread.Sleep(2);
        stream.Complete(p2.Serial, Executed(2), MonotonicClock.Now);

        Assert.Equal(0, stream.SerialAt(before));
        Assert.Equal(1, stream.SerialAt(afterFirst));
        Assert.Equal(-1, stream.SerialAt(whileSecondIsOnItsWay)); // taken but not yet sent: cannot be told
        Assert.Equal(2, stream.SerialAt(MonotonicClock.Now));
    }

    [Fact]
    public void A_chunk_published_with_pauses_holds_at_each_block_boundary_until_released_and_the_pause_extends_its_validity()
    {
        var stream = new ActionChunkStream(10, 7, actionBlock: 2);
        Span<float> a = stackalloc float[7];
        var chunk = stream.Publish(Chunk(6), 6, validUntilTicks: 1000, planId: 1, pauseEvery: 2);
        Assert.True(stream.TryTake(10, a, out _));
        Assert.True(stream.TryTake(20, a, out _));
        Assert.True(stream.IsPaused(chunk.Generation));
        Assert.False(stream.TryTake(30, a, out _));   // paused at the boundary: hold
        Assert.Equal(4, stream.Remaining);
        Assert.Equal(1, stream.Pauses);
        stream.Release(chunk.Generation, MonotonicClock.Now);
        Assert.False(stream.IsPaused(chunk.Generation));
        // The pause (from the boundary until the release, on the real clock here) was added to the validity.
        Assert.True(stream.TryTake(1500, a, out var third));
        Assert.Equal(2, third.Index);
        Assert.True(stream.TryTake(1500, a, out _));
        Assert.False(stream.TryTake(1500, a, out _)); // the next boundary
        stream.Release(chunk.Generation, MonotonicClock.Now, all: true);
        Assert.True(stream.TryTake(1500, a, out _));
        Assert.True(stream.TryTake(1500, a, out _));
        Assert.Equal(0, stream.Remaining);
        Assert.Equal(2, stream.Pauses);
    }

    [Fact]
    public void A_chunk_expiring_inside_a_block_leaves_the_rest_of_that_block_as_held_zeros_in_the_log()
    {
        var stream = new ActionChunkStream(10, 7, actionBlock: 3);
        Span<float> a = stackalloc float[7];
        stream.Publish(Chunk(6), 6, validUntilTicks: 100, planId: 1);
        Assert.True(stream.TryTake(50, a, out var p));
        stream.Complete(p.Serial, Executed(5), MonotonicClock.Now);
        Assert.False(stream.TryTake(101, a, out _)); // expired one action into the block
        Assert.Equal(3, stream.Taken);                // padded to the block's end, not beyond
        var into = new float[3 * 7];
        Assert.True(stream.TryCopyExecuted(1, 3, into));
        Assert.Equal(Executed(5), into[..7]);
        Assert.All(into[7..], v => Assert.Equal(0f, v));
    }
}
