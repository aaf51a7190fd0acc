using BenchmarkDotNet.Attributes;
using RobotCtl.Core.Arm;
using RobotCtl.Core.Vision;
using RobotCtl.Episodes;

namespace RobotCtl.Benchmarks;

/// <summary>A "JPEG-sized" encoder: writes a fixed 10 KB payload, the size of a 224x224 JPEG at quality ~90.</summary>
internal sealed class FixedSizeFrameEncoder(int bytes) : IFrameEncoder
{
    private readonly byte[] _payload = Enumerable.Range(0, bytes).Select(i => (byte)(i * 31)).ToArray();

    public string Format => "jpeg";

    public int Encode(Frame frame, Span<byte> destination)
    {
        if (destination.Length < _payload.Length) return -1;
        _payload.CopyTo(destination);
        return _payload.Length;
    }
}

/// <summary>Holds the writer task inside Encode so an iteration measures the loop side alone (no writer allocations).</summary>
internal sealed class GatedEncoder(IFrameEncoder inner) : IFrameEncoder
{
    public readonly ManualResetEventSlim Entered = new(), Open = new(true);

    public string Format => inner.Format;

    public int Encode(Frame frame, Span<byte> destination)
    {
        Entered.Set();
        Open.Wait();
        return inner.Encode(frame, destination);
    }
}

/// <summary>One control step's worth of record payloads, shaped like a LeWM run (224x224 frame, 192-d latent, 5x7 chunk).</summary>
internal sealed class StepPayload
{
    public readonly Frame Frame = new(224, 224);
    public readonly float[] Latent = new float[192];
    public readonly float[] Chunk = new float[5 * 7];
    public readonly float[] Costs = new float[30];
    public readonly EeCommand Command = new(0.01f, -0.02f, 0.005f, 0, 0, 0.01f, 0);
    public readonly ArmState State = new(0.4, 0.1, 0.3, 0, 0, 0, 0.5, 0, 0);
    public readonly StepTimings Timings = new(2, 3, 5, 40, 0.5, 0.2, 51);

    public StepPayload() => Random.Shared.NextBytes(Frame.Pixels);

    public void RecordStep(EpisodeRecorder r, long step)
    {
        r.RecordFrame(step, Frame);
        r.RecordLatent(step, LatentKind.Observed, Latent, [1, 192]);
        r.RecordPlan(step, new PlanRecord { Planner = "cem", Chunk = Chunk, ChunkShape = [5, 7], CostPerIteration = Costs, Iterations = 30, FinalCost = 1 });
        r.RecordCommand(step, Command, Command, 0, null);
        r.RecordArmState(step, State);
        r.RecordSurprise(step, 0.1f);
        r.RecordTimings(step, Timings);
    }
}

/// <summary>
/// Loop-side cost of the Record* calls (what the control loop pays): the writer is held for the iteration, so each call
/// is a copy plus a TryWrite into a queue with room, and the allocation column is the loop's alone.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(256)]
public class EpisodesRecordCallBenchmarks
{
    private readonly StepPayload _p = new();
    private readonly GatedEncoder _encoder = new(new FixedSizeFrameEncoder(10 * 1024));
    private string _dir = "";
    private EpisodeRecorder _recorder = null!;
    private long _step;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "robotctl-bench-" + Guid.NewGuid().ToString("N")[..8]);
        _recorder = EpisodeRecorder.Create(_dir, new EpisodeMetadata { Source = "bench" }, _encoder,
            new EpisodeRecorderOptions { QueueCapacity = 8192, MaxFramesInFlight = 300 });
    }

    [IterationSetup]
    public void HoldWriter()
    {
        _encoder.Open.Reset();
        _encoder.Entered.Reset();
        _recorder.RecordFrame(_step++, _p.Frame);
        _encoder.Entered.Wait();
    }

    [IterationCleanup]
    public void ReleaseWriter()
    {
        _encoder.Open.Set();
        // Let the writer drain before the next iteration, so the queue never fills and no call is a drop.
        while (_recorder.PendingRecords > 0) Thread.Sleep(1);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _encoder.Open.Set();
        _recorder.CompleteAsync(true).GetAwaiter().GetResult();
        if (_recorder.DroppedRecords != 0) Console.WriteLine($"WARNING: {_recorder.DroppedRecords} records dropped: measurements include drops");
        Directory.Delete(_dir, true);
    }

    [Benchmark] public bool RecordCommand() => _recorder.RecordCommand(_step, _p.Command, _p.Command, 0, null);
    [Benchmark] public bool RecordArmState() => _recorder.RecordArmState(_step, _p.State);
    [Benchmark] public bool RecordTimings() => _recorder.RecordTimings(_step, _p.Timings);
    [Benchmark] public bool RecordLatent192() => _recorder.RecordLatent(_step, LatentKind.Observed, _p.Latent, [1, 192]);
    [Benchmark] public bool RecordPlan5x7() => _recorder.RecordPlan(_step, new PlanRecord { Planner = "cem", Chunk = _p.Chunk, ChunkShape = [5, 7], CostPerIteration = _p.Costs, Iterations = 30, FinalCost = 1 });
    [Benchmark] public bool RecordFrame224() => _recorder.RecordFrame(_step, _p.Frame);
    [Benchmark(Description = "RecordStep (7 records)")] public void RecordStep() => _p.RecordStep(_recorder, _step);
}

/// <summary>
/// End-to-end recorder throughput: 200 full steps (10 KB JPEG-sized frame, latent, plan, command, state, surprise,
/// timings) recorded and committed to SQLite (WAL, synchronous=NORMAL) by one long-lived recorder; the call returns
/// when the last step's timings row is committed. Steps/s = 1 / Mean. Allocations include the writer task's.
/// </summary>
[MemoryDiagnoser]
public class EpisodesThroughputBenchmarks
{
    private const int Steps = 200;
    private readonly StepPayload _p = new();
    private string _dir = "";
    private EpisodeRecorder _recorder = null!;
    private long _step;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "robotctl-bench-" + Guid.NewGuid().ToString("N")[..8]);
        _recorder = EpisodeRecorder.Create(_dir, new EpisodeMetadata { Source = "bench" }, new FixedSizeFrameEncoder(10 * 1024),
            new EpisodeRecorderOptions { MaxFramesInFlight = Steps });
    }

    [Benchmark(OperationsPerInvoke = Steps)]
    public void RecordAndCommitStep()
    {
        var last = _step + Steps - 1;
        for (var s = 0; s < Steps; s++) _p.RecordStep(_recorder, _step++);
        var spin = new SpinWait();
        while (_recorder.LastCommittedStep < last) spin.SpinOnce();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _recorder.CompleteAsync(true).GetAwaiter().GetResult();
        var bytes = new FileInfo(_recorder.Path).Length;
        Console.WriteLine($"// episode size: {(double)bytes / _step:F0} bytes per step over {_step} steps (10 KB frame + latent 192 + plan 5x7/30 " +
                          $"+ command + state + surprise + timings) = {(double)bytes / _step * 600 / 1e6:F2} MB per minute at 10 Hz; " +
                          $"{_recorder.DroppedRecords} records dropped");
        Directory.Delete(_dir, true);
    }
}
