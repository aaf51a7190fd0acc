using RobotCtl.Core.Arm;

namespace RobotCtl.Episodes.Tests;

public class RecorderOverloadTests
{
    [Fact]
    public async Task Full_queue_drops_without_blocking_and_records_a_gap_with_the_count()
    {
        using var dir = new TempDir();
        var encoder = new GateEncoder();
        const int capacity = 16;
        var recorder = EpisodeRecorder.Create(dir.Path, RoundTripTests.Metadata(), encoder,
            new EpisodeRecorderOptions { QueueCapacity = capacity, MaxFramesInFlight = 2 });
        var frame = RoundTripTests.TestFrame(4, 4, 0, 0);

        Assert.True(recorder.RecordFrame(0, frame));
        Assert.True(encoder.Entered.Wait(TimeSpan.FromSeconds(10)), "the writer task never took the frame");

        // The writer is stuck in Encode: the queue fills, then every further record is refused at once.
        var results = new List<bool>();
        var producer = Task.Run(() =>
        {
            for (var i = 0; i < capacity + 100; i++) results.Add(recorder.RecordCommand(1, EeCommand.Hold, EeCommand.Hold));
            // A pooled frame copy is free, but the queue is full: the copy goes back to the pool and the frame is counted.
            results.Add(recorder.RecordFrame(2, frame));
            results.Add(recorder.RecordFrame(2, frame));
        });
        await producer.WaitAsync(TimeSpan.FromSeconds(10)); // TimeoutException: a Record call blocked on a full queue
        Assert.Equal(capacity, results.Count(r => r));
        Assert.Equal(102, results.Count(r => !r));
        Assert.Equal(102, recorder.DroppedRecords);

        encoder.Release.Set();
        await recorder.CompleteAsync(true);

        using var reader = EpisodeReader.Open(recorder.Path);
        Assert.Single(reader.Frames());
        Assert.Equal(capacity, reader.Commands().Count());
        var gaps = reader.Events().Where(e => e.Kind == EpisodeEventKind.Gap).ToArray();
        Assert.Equal(102, gaps.Sum(g => g.Count));
        Assert.Equal(2, gaps[^1].Step);
        Assert.Equal(102, reader.Info.DroppedRecords);
        Assert.Equal(102, EpisodeSummary.Of(reader).DroppedRecords);
    }

    [Fact]
    public async Task Frames_beyond_the_in_flight_limit_are_dropped_and_counted()
    {
        using var dir = new TempDir();
        var encoder = new GateEncoder();
        var recorder = EpisodeRecorder.Create(dir.Path, RoundTripTests.Metadata(), encoder,
            new EpisodeRecorderOptions { QueueCapacity = 100, MaxFramesInFlight = 2 });
        var frame = RoundTripTests.TestFrame(4, 4, 0, 0);
        Assert.True(recorder.RecordFrame(0, frame));
        Assert.True(encoder.Entered.Wait(TimeSpan.FromSeconds(10)));
        Assert.True(recorder.RecordFrame(1, frame));  // second pooled frame
        Assert.False(recorder.RecordFrame(2, frame)); // both copies in use: dropped, not allocated
        Assert.Equal(1, recorder.DroppedRecords);
        encoder.Release.Set();
        await recorder.CompleteAsync(true);
        using var reader = EpisodeReader.Open(recorder.Path);
        Assert.Equal([0L, 1L], reader.Frames().Select(f => f.Step));
        Assert.Equal(1, reader.Events().Single(e => e.Kind == EpisodeEventKind.Gap).Count);
    }

    [Fact]
    public async Task Records_after_completion_are_refused_and_counted()
    {
        using var dir = new TempDir();
        var recorder = EpisodeRecorder.Create(dir.Path, RoundTripTests.Metadata(), new RawBgrFrameEncoder());
        await recorder.CompleteAsync(true);
        Assert.False(recorder.RecordSurprise(0, 1f));
        Assert.Equal(1, recorder.DroppedRecords);
    }

    private sealed class FailingEncoder : IFrameEncoder
    {
        public string Format => "jpeg";

        public int Encode(RobotCtl.Core.Vision.Frame frame, Span<byte> destination) =>
            frame.Sequence == 1 ? throw new InvalidOperationException("imencode failed") : new RawBgrFrameEncoder().Encode(frame, destination);
    }

    [Fact]
    public async Task An_encoder_failure_loses_that_frame_only_and_is_recorded_as_a_fault()
    {
        using var dir = new TempDir();
        var recorder = EpisodeRecorder.Create(dir.Path, RoundTripTests.Metadata(), new FailingEncoder());
        for (var s = 0; s < 3; s++)
        {
            recorder.RecordFrame(s, RoundTripTests.TestFrame(4, 4, s, s));
            recorder.RecordTimings(s, default);
        }
        await recorder.CompleteAsync(true);
        Assert.Null(recorder.Fault);
        using var reader = EpisodeReader.Open(recorder.Path);
        Assert.Equal([0L, 2L], reader.Frames().Select(f => f.Step));
        Assert.Equal(3, reader.Steps().Count());
        var fault = Assert.Single(reader.Events());
        Assert.Equal((EpisodeEventKind.Fault, 1L, "frame 1 not recorded: jpeg encoder failed: imencode failed"), (fault.Kind, fault.Step, fault.Message));
    }

    [Fact]
    public async Task Several_threads_can_record_at_once_and_every_accepted_record_is_written()
    {
        using var dir = new TempDir();
        var recorder = EpisodeRecorder.Create(dir.Path, RoundTripTests.Metadata(), new RawBgrFrameEncoder(),
            new EpisodeRecorderOptions { QueueCapacity = 64 });
        var accepted = new int[4];
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 2000; i++)
                if (recorder.RecordCommand(t, new EeCommand(i, 0, 0, 0, 0, 0, 0), EeCommand.Hold)) accepted[t]++;
        })));
        await recorder.CompleteAsync(true);
        using var reader = EpisodeReader.Open(recorder.Path);
        var rows = reader.Commands().GroupBy(c => c.Step).ToDictionary(g => g.Key, g => g.Select(c => c.Requested.Dx).ToArray());
        for (var t = 0; t < 4; t++)
        {
            var written = rows.GetValueOrDefault(t, []);
            Assert.Equal(accepted[t], written.Length);
            Assert.Equal(written.Order(), written); // one producer's records stay in its order
        }
        Assert.Equal(4 * 2000 - accepted.Sum(), recorder.DroppedRecords);
        Assert.Equal(recorder.DroppedRecords, reader.Events().Where(e => e.Kind == EpisodeEventKind.Gap).Sum(e => e.Count));
    }
}
