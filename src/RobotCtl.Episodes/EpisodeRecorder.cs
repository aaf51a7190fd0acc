using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using RobotCtl.Core.Arm;
using RobotCtl.Core.Timing;
using RobotCtl.Core.Vision;

namespace RobotCtl.Episodes;

/// <summary>
/// Records one episode into its own SQLite file, off the control path. The Record* methods never block and
/// allocate nothing after warm-up: they copy the payload into pooled buffers and queue it on a bounded channel;
/// a task of the recorder's own writes the rows in batched transactions. When the queue is full a record is
/// dropped, counted, and written later as a <see cref="EpisodeEventKind.Gap"/> event with the count.
/// Every Record* method returns true when the record was queued. Safe to call from several threads.
/// </summary>
public sealed class EpisodeRecorder : IAsyncDisposable
{
    private readonly Channel<PendingRecord> _channel;
    private readonly EpisodeStore _store;
    private readonly IFrameEncoder _encoder;
    private readonly FramePool _frames;
    private readonly ArrayPool<float> _floats;
    private readonly ArrayPool<long> _longs;
    private readonly int _maxRowsPerCommit;
    private readonly Task _consumer;
    private readonly FileStream _lock;
    private readonly long _checkpointTicks;
    private byte[] _encoded = [];
    private long _droppedPending, _droppedTotal, _lastDroppedStep, _committedStep = -1, _committedRows, _checkpointedStep = -1;
    private long _lastCheckpoint;
    private bool _uncheckpointed;
    private Exception? _fault;
    private int _completed;

    private const int MaxPooledFloats = 1 << 24;
    private const int MaxPooledLongs = 1 << 16;

    private EpisodeRecorder(string path, string id, EpisodeStore store, FileStream fileLock, IFrameEncoder encoder, EpisodeRecorderOptions options)
    {
        Path = path;
        Id = id;
        _store = store;
        _lock = fileLock;
        _checkpointTicks = (long)(options.CheckpointInterval.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        _lastCheckpoint = MonotonicClock.Now;
        _encoder = encoder;
        _frames = new FramePool(options.MaxFramesInFlight);
        // The recorder's own pool, deep enough for a full queue: the shared pool keeps only a few arrays per size,
        // so a burst of queued latents/plans would allocate.
        _floats = ArrayPool<float>.Create(MaxPooledFloats, options.QueueCapacity);
        _longs = ArrayPool<long>.Create(MaxPooledLongs, options.QueueCapacity);
        _maxRowsPerCommit = options.MaxRowsPerCommit;
        // FullMode.Wait + TryWrite: a full queue answers false at once (never waits), so each drop is counted.
        _channel = Channel.CreateBounded<PendingRecord>(new BoundedChannelOptions(options.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = false,
        });
        // The channel's internal queue grows by doubling the first time it holds that many records, which would
        // allocate on the loop the first time the writer falls that far behind: grow it to capacity now.
        for (var i = 0; i < options.QueueCapacity; i++) _channel.Writer.TryWrite(default);
        while (_channel.Reader.TryRead(out _)) { }
        _consumer = Task.Run(ConsumeAsync);
    }

    /// <summary>
    /// Creates <c>&lt;directory&gt;/&lt;id&gt;.sqlite</c> (id = <see cref="NewEpisodeId"/> unless <paramref name="id"/> is given)
    /// with the metadata, and starts the writer task. Throws IOException/SqliteException when the file cannot be created,
    /// IOException when a given id's file already exists (or another process is creating it), ArgumentException for an
    /// id that is not a plain file name (letters, digits, '-', '_', '.'). Holds <c>&lt;id&gt;.sqlite.lock</c> until completed
    /// (see <see cref="EpisodeReader.State"/>).
    /// </summary>
    public static EpisodeRecorder Create(string directory, EpisodeMetadata metadata, IFrameEncoder encoder, EpisodeRecorderOptions? options = null,
        string? id = null)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(encoder);
        options ??= new EpisodeRecorderOptions();
        options.Validate();
        if (id is not null && (id.Length == 0 || id.StartsWith('.') || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            throw new ArgumentException($"episode id '{id}': expected a plain file name of letters, digits, '-', '_' and '.'", nameof(id));
        Directory.CreateDirectory(directory);
        string path;
        FileStream? fileLock;
        if (id is not null)
        {
            path = System.IO.Path.Combine(directory, id + EpisodeSchema.FileExtension);
            // Opening an existing file would append to another episode: refuse.
            if (File.Exists(path)) throw new IOException($"episode file {path} already exists");
            fileLock = EpisodeLock.TryAcquire(path, out var error) ?? throw new IOException($"episode file {path} is being created by another process", error);
            if (File.Exists(path))
            {
                fileLock.Dispose();
                throw new IOException($"episode file {path} already exists");
            }
        }
        else
        {
            for (var attempt = 1; ; attempt++)
            {
                id = NewEpisodeId(metadata.StartTimeUtc, metadata.Source);
                path = System.IO.Path.Combine(directory, id + EpisodeSchema.FileExtension);
                if (File.Exists(path)) continue; // two runs started in the same second: another random suffix
                fileLock = EpisodeLock.TryAcquire(path, out var error);
                if (fileLock is null)
                {
                    // Another process creating the same name is one retry; every attempt failing is an I/O error.
                    if (attempt >= 20) throw new IOException($"cannot create the lock file {EpisodeLock.PathFor(path)}: {error!.Message}", error);
                    continue;
                }
                if (!File.Exists(path)) break;
                fileLock.Dispose();
            }
        }
        // The lock is taken before the file exists, so a reader never sees the file of a live recorder unlocked.
        try
        {
            var store = EpisodeStore.Create(path, metadata, options.SyncEveryCommit);
            return new EpisodeRecorder(path, id, store, fileLock, encoder, options);
        }
        catch
        {
            fileLock.Dispose();
            throw;
        }
    }

    /// <summary>"yyyyMMdd-HHmmss-source-xxxx" (UTC start, source, 4 random hex digits), e.g. 20261121-120301-sim-ab12.</summary>
    public static string NewEpisodeId(DateTimeOffset startUtc, string source)
    {
        var safe = new string(source.Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '_').ToArray());
        if (safe.Length == 0) safe = "unknown";
        return $"{startUtc.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}-{safe}-{Random.Shared.Next(0x10000):x4}";
    }

    public string Path { get; }
    public string Id { get; }

    /// <summary>Records dropped so far because the queue (or the frame pool) was full.</summary>
    public long DroppedRecords => Interlocked.Read(ref _droppedTotal);

    /// <summary>Records queued and not yet taken by the writer (the recorder's backlog).</summary>
    public int PendingRecords => _channel.Reader.Count;

    /// <summary>Rows durably committed so far.</summary>
    public long CommittedRows => Interlocked.Read(ref _committedRows);

    /// <summary>The step of the last committed timings row (timings close a step), or -1.</summary>
    public long LastCommittedStep => Interlocked.Read(ref _committedStep);

    /// <summary>
    /// The step of the last timings row known to be in the .sqlite file itself (not only in its -wal), or -1: what a
    /// copy of the .sqlite file alone keeps (<see cref="EpisodeRecorderOptions.CheckpointInterval"/>).
    /// </summary>
    public long LastCheckpointedStep => Interlocked.Read(ref _checkpointedStep);

    /// <summary>Set when the writer failed (disk full, file removed); later records are dropped and counted.</summary>
    public Exception? Fault => Volatile.Read(ref _fault);

    // ---- loop side: never blocks, no allocation after warm-up ----

    /// <summary>Copies the frame (pixels, capture time, sequence) into a pooled frame; encoding happens on the writer task.</summary>
    public bool RecordFrame(long step, Frame frame) => QueueFrame(RecordKind.Frame, step, frame, 0);

    /// <summary>A goal image (sub-goal <paramref name="goalIndex"/>), usually recorded once at the start.</summary>
    public bool RecordGoalImage(int goalIndex, long step, Frame frame) => QueueFrame(RecordKind.GoalImage, step, frame, goalIndex);

    /// <summary>
    /// Fills the pools for what the loop will record: <paramref name="frameWidth"/> x <paramref name="frameHeight"/>
    /// frames (every in-flight slot) and float records of the given lengths (latents, plans), <paramref name="depth"/>
    /// deep. The pools otherwise create buffers lazily the first time the writer falls that far behind, so a loop
    /// could allocate long after its warm-up; call once at start.
    /// </summary>
    public void Reserve(int frameWidth, int frameHeight, ReadOnlySpan<int> floatLengths, int depth = 64, ReadOnlySpan<int> longLengths = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(depth);
        _frames.Reserve(frameWidth, frameHeight);
        var held = new float[depth][];
        foreach (var length in floatLengths)
        {
            for (var i = 0; i < depth; i++) held[i] = _floats.Rent(Math.Max(length, 1));
            for (var i = 0; i < depth; i++) _floats.Return(held[i]);
        }
        var heldLongs = new long[depth][];
        foreach (var length in longLengths)
        {
            for (var i = 0; i < depth; i++) heldLongs[i] = _longs.Rent(Math.Max(length, 1));
            for (var i = 0; i < depth; i++) _longs.Return(heldLongs[i]);
        }
    }

    public bool RecordLatent(long step, LatentKind kind, ReadOnlySpan<float> values, ReadOnlySpan<int> shape)
    {
        var s = Shape.From(shape, values.Length, nameof(shape));
        var buffer = _floats.Rent(Math.Max(values.Length, 1));
        values.CopyTo(buffer);
        return Queue(new PendingRecord { Kind = RecordKind.Latent, Step = step, Floats = buffer, Length0 = values.Length, Shape = s, Int0 = (int)kind }, buffer);
    }

    public bool RecordPlan(long step, in PlanRecord plan)
    {
        ArgumentNullException.ThrowIfNull(plan.Planner);
        var s = Shape.From(plan.ChunkShape, plan.Chunk.Length, nameof(plan.ChunkShape));
        var buffer = _floats.Rent(Math.Max(plan.Chunk.Length + plan.CostPerIteration.Length, 1));
        plan.Chunk.CopyTo(buffer);
        plan.CostPerIteration.CopyTo(buffer.AsSpan(plan.Chunk.Length));
        return Queue(new PendingRecord
        {
            Kind = RecordKind.Plan, Step = step, Floats = buffer, Length0 = plan.Chunk.Length, Length1 = plan.CostPerIteration.Length,
            Shape = s, Text = plan.Planner, Text2 = plan.SettingsJson, Int0 = plan.Iterations, Long0 = plan.Seed,
            Double0 = plan.DeadlineMs, Double1 = plan.ElapsedMs, Float0 = plan.FinalCost,
        }, buffer);
    }

    /// <summary>
    /// A frame the loop captured at block boundary <paramref name="boundary"/> (1..) of step <paramref name="step"/>'s chunk
    /// while it ran (context history), with its latent, the arm state (state models; else empty) and the serial of the
    /// last executed action it shows. Copied into a pooled frame and buffer; encoded on the writer task.
    /// </summary>
    public bool RecordBoundaryFrame(long step, int boundary, long serial, Frame frame, ReadOnlySpan<float> latent, ReadOnlySpan<int> latentShape,
        ReadOnlySpan<float> state)
    {
        var s = Shape.From(latentShape, latent.Length, nameof(latentShape));
        if (!_frames.TryRent(out var copy))
        {
            CountDrop(step);
            return false;
        }
        frame.CopyTo(copy);
        var buffer = _floats.Rent(Math.Max(latent.Length + state.Length, 1));
        latent.CopyTo(buffer);
        state.CopyTo(buffer.AsSpan(latent.Length));
        if (Queue(new PendingRecord
            {
                Kind = RecordKind.BoundaryFrame, Step = step, Frame = copy, Floats = buffer, Length0 = latent.Length, Length1 = state.Length,
                Shape = s, Int0 = boundary, Long0 = serial,
            }, buffer)) return true;
        _frames.Return(copy);
        return false;
    }

    /// <summary>The observed context one plan was made from (<see cref="PlanContextRecord"/>), copied into pooled buffers.</summary>
    public bool RecordPlanContext(long step, in PlanContextRecord context)
    {
        var f = context.FrameSteps.Length;
        if (f < 1 || context.FrameBoundaries.Length != f || context.Serials.Length != f)
            throw new ArgumentException($"plan context: expected as many frame steps, boundaries and serials (>= 1), found {f}, {context.FrameBoundaries.Length}, {context.Serials.Length}", nameof(context));
        var s = Shape.From(context.LatentShape, context.Latents.Length / f, nameof(context.LatentShape));
        var floats = _floats.Rent(Math.Max(context.Latents.Length + context.PastActions.Length + context.States.Length, 1));
        context.Latents.CopyTo(floats);
        context.PastActions.CopyTo(floats.AsSpan(context.Latents.Length));
        context.States.CopyTo(floats.AsSpan(context.Latents.Length + context.PastActions.Length));
        var longs = _longs.Rent(3 * f);
        context.FrameSteps.CopyTo(longs);
        context.Serials.CopyTo(longs.AsSpan(f));
        for (var i = 0; i < f; i++) longs[2 * f + i] = context.FrameBoundaries[i];
        var record = new PendingRecord
        {
            Kind = RecordKind.PlanContext, Step = step, Floats = floats, Longs = longs, Length0 = context.Latents.Length,
            Length1 = context.PastActions.Length, Length2 = context.States.Length, Shape = s,
            Int0 = f, Int1 = context.ActionBlock, Int2 = context.ActionDim, Int3 = context.StateDim,
        };
        if (Queue(record, floats)) return true;
        _longs.Return(longs);
        return false;
    }

    /// <summary>
    /// A command as sent after the safety governor. Bit i of <paramref name="clampedAxes"/> marks axis i as clamped;
    /// <paramref name="reason"/> says why (pass a constant string: this call should not allocate).
    /// </summary>
    public bool RecordCommand(long step, in EeCommand requested, in EeCommand sent, int clampedAxes = 0, string? reason = null) =>
        Queue(new PendingRecord { Kind = RecordKind.Command, Step = step, Requested = requested, Sent = sent, Int0 = clampedAxes, Text = reason }, null);

    public bool RecordArmState(long step, in ArmState state) =>
        Queue(new PendingRecord { Kind = RecordKind.ArmState, Step = step, State = state }, null);

    /// <summary>The simulator's true state (effector x, y, z; block x, y, yaw) at <paramref name="step"/>: the sim's ground truth, for evaluation and training labels.</summary>
    public bool RecordSimState(long step, double eeX, double eeY, double eeZ, double blockX, double blockY, double blockYaw) =>
        RecordSimState(step, new SimStateSample(eeX, eeY, eeZ, blockX, blockY, blockYaw));

    public bool RecordSimState(long step, in SimStateSample state) =>
        Queue(new PendingRecord { Kind = RecordKind.SimState, Step = step, SimState = state }, null);

    /// <summary>Frames copied on the loop side and not yet written (at most <see cref="EpisodeRecorderOptions.MaxFramesInFlight"/>; beyond it frames are dropped).</summary>
    public int FramesInFlight => _frames.InUse;

    public bool RecordSurprise(long step, float value) =>
        Queue(new PendingRecord { Kind = RecordKind.Surprise, Step = step, Float0 = value }, null);

    /// <summary>The step's section timings; record them last: a timings row closes the step.</summary>
    public bool RecordTimings(long step, in StepTimings timings) =>
        Queue(new PendingRecord { Kind = RecordKind.Timings, Step = step, Timings = timings }, null);

    /// <summary>E-stop, fault, reconnect, overrun, note. Events are rare: the message string is the caller's.</summary>
    public bool RecordEvent(long step, EpisodeEventKind kind, string message, long count = 1)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Queue(new PendingRecord { Kind = RecordKind.Event, Step = step, Text = message, Int0 = (int)kind, Long0 = count }, null);
    }

    private bool QueueFrame(RecordKind kind, long step, Frame frame, int goalIndex)
    {
        if (!_frames.TryRent(out var copy))
        {
            CountDrop(step);
            return false;
        }
        frame.CopyTo(copy);
        if (Queue(new PendingRecord { Kind = kind, Step = step, Frame = copy, Int0 = goalIndex }, null)) return true;
        _frames.Return(copy);
        return false;
    }

    private bool Queue(in PendingRecord record, float[]? rented)
    {
        var r = record;
        r.Ticks = MonotonicClock.Now;
        if (_channel.Writer.TryWrite(r)) return true;
        if (rented is not null) _floats.Return(rented);
        CountDrop(record.Step);
        return false;
    }

    private void CountDrop(long step)
    {
        Volatile.Write(ref _lastDroppedStep, step);
        Interlocked.Increment(ref _droppedPending);
        Interlocked.Increment(ref _droppedTotal);
    }

    // ---- writer side ----

    private async Task ConsumeAsync()
    {
        var reader = _channel.Reader;
        while (await WaitForRecordsAsync(reader).ConfigureAwait(false))
        {
            if (Fault is not null)
            {
                while (reader.TryRead(out var lost)) { Release(lost); CountDrop(lost.Step); }
                continue;
            }
            try
            {
                _store.Begin();
                var rows = 0;
                long? lastStep = null;
                while (rows < _maxRowsPerCommit && reader.TryRead(out var record))
                {
                    try { Write(record); }
                    finally { Release(record); }
                    if (record.Kind == RecordKind.Timings) lastStep = record.Step;
                    rows++;
                }
                rows += WritePendingGap();
                _store.Commit();
                Interlocked.Add(ref _committedRows, rows);
                if (lastStep is { } step) Interlocked.Exchange(ref _committedStep, step);
                _uncheckpointed = true;
                if (_checkpointTicks > 0 && MonotonicClock.Now - _lastCheckpoint >= _checkpointTicks) Checkpoint();
            }
            catch (Exception e)
            {
                Volatile.Write(ref _fault, e);
            }
        }
    }

    /// <summary>
    /// Waits for records. When the queue is idle with commits that are only in the WAL, checkpoints once the interval
    /// is up, so the last rows before a pause (or before a kill during one) are in the .sqlite file too.
    /// </summary>
    private async ValueTask<bool> WaitForRecordsAsync(ChannelReader<PendingRecord> reader)
    {
        var ready = reader.WaitToReadAsync();
        if (ready.IsCompleted || !_uncheckpointed || _checkpointTicks == 0 || Fault is not null) return await ready.ConfigureAwait(false);
        var wait = ready.AsTask();
        var dueTicks = _lastCheckpoint + _checkpointTicks - MonotonicClock.Now;
        if (dueTicks > 0)
            await Task.WhenAny(wait, Task.Delay(TimeSpan.FromSeconds((double)dueTicks / System.Diagnostics.Stopwatch.Frequency))).ConfigureAwait(false);
        if (!wait.IsCompleted) Checkpoint();
        return await wait.ConfigureAwait(false);
    }

    /// <summary>Writer task only, between transactions.</summary>
    private void Checkpoint()
    {
        var step = Interlocked.Read(ref _committedStep); // everything committed so far is in the WAL this checkpoint copies
        _lastCheckpoint = MonotonicClock.Now;
        try
        {
            if (!_store.Checkpoint()) return; // a reader holds part of the WAL back: the next interval tries again
            _uncheckpointed = false;
            Interlocked.Exchange(ref _checkpointedStep, step);
        }
        catch (Microsoft.Data.Sqlite.SqliteException)
        {
            // Not a lost row: the commits are safe in the WAL and the next interval tries again. A disk that stays
            // broken fails the next commit, which is reported (Fault).
        }
    }

    private int WritePendingGap()
    {
        var dropped = Interlocked.Exchange(ref _droppedPending, 0);
        if (dropped == 0) return 0;
        var step = Volatile.Read(ref _lastDroppedStep);
        _store.InsertEvent(step, MonotonicClock.Now, EpisodeEventKind.Gap,
            $"recorder could not keep up (queue or frame pool full): {dropped} record(s) dropped, the last at step {step}", dropped);
        return 1;
    }

    /// <summary>
    /// Encodes the record's frame into the shared buffer. One frame the encoder cannot handle is a fault event naming
    /// it (<paramref name="what"/>), not the end of the recording.
    /// </summary>
    private bool TryEncodeFrame(in PendingRecord r, string what, out int length)
    {
        try
        {
            length = EncodeFrame(r.Frame!);
            return true;
        }
        catch (Exception e)
        {
            _store.InsertEvent(r.Step, r.Ticks, EpisodeEventKind.Fault,
                $"{what} {r.Frame!.Sequence} not recorded: {_encoder.Format} encoder failed: {e.Message}", 1);
            length = 0;
            return false;
        }
    }

    private void Write(in PendingRecord r)
    {
        switch (r.Kind)
        {
            case RecordKind.Frame:
            case RecordKind.GoalImage:
                if (!TryEncodeFrame(r, "frame", out var length)) break;
                if (r.Kind == RecordKind.Frame) _store.InsertFrame(r.Step, r.Ticks, r.Frame!, _encoder.Format, _encoded.AsSpan(0, length));
                else _store.InsertGoalImage(r.Int0, r.Step, r.Ticks, r.Frame!, _encoder.Format, _encoded.AsSpan(0, length));
                break;
            case RecordKind.Latent:
                _store.InsertLatent(r.Step, r.Ticks, (LatentKind)r.Int0, r.Shape.ToJson(), r.Floats.AsSpan(0, r.Length0));
                break;
            case RecordKind.Plan:
                _store.InsertPlan(r.Step, r.Ticks, r.Text!, r.Text2, r.Long0, r.Int0, r.Double0, r.Double1, r.Float0,
                    r.Floats.AsSpan(r.Length0, r.Length1), r.Shape.ToJson(), r.Floats.AsSpan(0, r.Length0));
                break;
            case RecordKind.Command:
                _store.InsertCommand(r.Step, r.Ticks, r.Requested, r.Sent, r.Int0, r.Text);
                break;
            case RecordKind.ArmState:
                _store.InsertArmState(r.Step, r.Ticks, r.State);
                break;
            case RecordKind.SimState:
                _store.InsertSimState(r.Step, r.Ticks, r.SimState);
                break;
            case RecordKind.Surprise:
                _store.InsertSurprise(r.Step, r.Ticks, r.Float0);
                break;
            case RecordKind.Timings:
                _store.InsertTimings(r.Step, r.Ticks, r.Timings);
                break;
            case RecordKind.Event:
                _store.InsertEvent(r.Step, r.Ticks, (EpisodeEventKind)r.Int0, r.Text!, r.Long0);
                break;
            case RecordKind.BoundaryFrame:
                if (!TryEncodeFrame(r, "boundary frame", out var bytes)) break;
                _store.InsertBoundaryFrame(r.Step, r.Ticks, r.Int0, r.Long0, r.Frame!, _encoder.Format, _encoded.AsSpan(0, bytes),
                    r.Shape.ToJson(), r.Floats.AsSpan(0, r.Length0), r.Floats.AsSpan(r.Length0, r.Length1));
                break;
            case RecordKind.PlanContext:
                var f = r.Int0;
                _store.InsertPlanContext(r.Step, r.Ticks, f, r.Longs.AsSpan(0, f), r.Longs.AsSpan(2 * f, f), r.Longs.AsSpan(f, f), r.Shape.ToJson(),
                    r.Int1, r.Int2, r.Int3, r.Floats.AsSpan(0, r.Length0), r.Floats.AsSpan(r.Length0, r.Length1),
                    r.Floats.AsSpan(r.Length0 + r.Length1, r.Length2));
                break;
        }
    }

    private int EncodeFrame(Frame frame)
    {
        if (_encoded.Length == 0) _encoded = new byte[frame.Width * frame.Height * 3 + 4096];
        for (var attempt = 0; attempt < 4; attempt++)
        {
            var n = _encoder.Encode(frame, _encoded);
            if (n >= 0) return n;
            _encoded = new byte[_encoded.Length * 2];
        }
        throw new InvalidOperationException($"frame encoder '{_encoder.Format}' needs more than {_encoded.Length} bytes for a {frame.Width}x{frame.Height} frame");
    }

    private void Release(in PendingRecord r)
    {
        if (r.Frame is not null) _frames.Return(r.Frame);
        if (r.Floats is not null) _floats.Return(r.Floats);
        if (r.Longs is not null) _longs.Return(r.Longs);
    }

    /// <summary>
    /// Stops accepting records, writes everything queued, stores the outcome and leaves a single self-contained
    /// file. Throws <see cref="EpisodeRecordingException"/> if the writer had failed (what was committed stays readable).
    /// </summary>
    public async Task CompleteAsync(bool? success, string? outcome = null)
    {
        if (Interlocked.Exchange(ref _completed, 1) == 1) return;
        _channel.Writer.TryComplete();
        await _consumer.ConfigureAwait(false);
        try
        {
            if (Fault is null)
            {
                _store.Begin();
                WritePendingGap();
                _store.SetMetadata("end_time_utc", DateTimeOffset.UtcNow.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
                _store.SetMetadata("end_ticks", MonotonicClock.Now.ToString(CultureInfo.InvariantCulture));
                _store.SetMetadata("success", success is null ? null : success.Value ? "1" : "0");
                _store.SetMetadata("outcome", outcome);
                _store.SetMetadata("dropped_records", DroppedRecords.ToString(CultureInfo.InvariantCulture));
                _store.FinishFile();
            }
        }
        catch (Exception e)
        {
            Volatile.Write(ref _fault, e);
        }
        finally
        {
            _store.Dispose();
            _lock.Dispose(); // after the end marker: a reader that takes the lock and sees no marker knows the recorder died
        }
        if (Fault is { } fault)
            throw new EpisodeRecordingException($"episode {Path}: the recorder failed: {fault.Message}; rows committed before the failure are readable", fault);
    }

    /// <summary>Completes with an unknown outcome ("aborted") when <see cref="CompleteAsync"/> was not called.</summary>
    public async ValueTask DisposeAsync()
    {
        try { await CompleteAsync(null, "aborted").ConfigureAwait(false); }
        catch (EpisodeRecordingException) { /* reported by Fault; disposal must not throw */ }
    }

    private enum RecordKind : byte { Frame, GoalImage, Latent, Plan, Command, ArmState, Surprise, Timings, Event, SimState, BoundaryFrame, PlanContext }

    /// <summary>One queued record: a flat struct (no per-record object), payload references are pooled.</summary>
    private struct PendingRecord
    {
        public RecordKind Kind;
        public long Step, Ticks, Long0;
        public int Int0, Int1, Int2, Int3, Length0, Length1, Length2;
        public double Double0, Double1;
        public float Float0;
        public Frame? Frame;
        public float[]? Floats;
        public long[]? Longs;
        public string? Text, Text2;
        public Shape Shape;
        public EeCommand Requested, Sent;
        public ArmState State;
        public StepTimings Timings;
        public SimStateSample SimState;
    }

    /// <summary>A tensor shape of rank 1..4 kept inline (no int[] per record).</summary>
    private struct Shape
    {
        private int _d0, _d1, _d2, _d3, _rank;

        public static Shape From(ReadOnlySpan<int> dims, int length, string name)
        {
            if (dims.Length is < 1 or > 4) throw new ArgumentException($"expected a shape of rank 1 to 4, found rank {dims.Length}", name);
            var s = new Shape { _rank = dims.Length };
            long product = 1;
            for (var i = 0; i < dims.Length; i++)
            {
                if (dims[i] < 0) throw new ArgumentException($"shape dimension {i} is negative ({dims[i]})", name);
                product *= dims[i];
            }
            if (product != length) throw new ArgumentException($"shape product {product} does not match {length} values", name);
            s._d0 = dims[0];
            if (dims.Length > 1) s._d1 = dims[1];
            if (dims.Length > 2) s._d2 = dims[2];
            if (dims.Length > 3) s._d3 = dims[3];
            return s;
        }

        public readonly string ToJson() => JsonSerializer.Serialize(new[] { _d0, _d1, _d2, _d3 }[.._rank], EpisodeJsonContext.Default.Int32Array);
    }

    /// <summary>Frames owned by the recorder: rented on the loop (a copy), returned after the row is written.</summary>
    private sealed class FramePool(int capacity)
    {
        private readonly Stack<Frame> _free = new(capacity);
        private int _created;

        /// <summary>Frames rented and not yet returned.</summary>
        public int InUse
        {
            get { lock (_free) return _created - _free.Count; }
        }

        public bool TryRent(out Frame frame)
        {
            lock (_free)
            {
                if (_free.TryPop(out frame!)) return true;
                if (_created == capacity) return false;
                _created++;
            }
            frame = new Frame(1, 1); // sized by Frame.CopyTo on first use, then reused
            return true;
        }

        public void Return(Frame frame)
        {
            lock (_free) _free.Push(frame);
        }

        /// <summary>Creates every remaining slot now, at the given size.</summary>
        public void Reserve(int width, int height)
        {
            lock (_free)
            {
                foreach (var f in _free) f.EnsureSize(width, height);
                for (; _created < capacity; _created++) _free.Push(new Frame(width, height));
            }
        }
    }
}
