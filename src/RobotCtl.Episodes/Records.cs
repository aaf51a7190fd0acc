using RobotCtl.Core.Arm;

namespace RobotCtl.Episodes;

/// <summary>
/// How long each section of one control step took, in milliseconds (the loop's own stopwatch). Recording a
/// step's timings closes the step: <see cref="EpisodeRecorder.LastCommittedStep"/> counts timing rows.
/// </summary>
public readonly record struct StepTimings(
    double CaptureMs, double PreprocessMs, double EncodeMs, double PlanMs, double PublishMs, double RecordMs, double TotalMs)
    // PublishMs: handing the chunk to the streamer; stored and shown as "send" (the column's name in every episode file).
{
    /// <summary>Section names in column order, as stored and as shown by `episodes show`.</summary>
    public static readonly string[] SectionNames = ["capture", "preprocess", "encode", "plan", "send", "record", "total"];

    public double this[int section] => section switch
    {
        0 => CaptureMs, 1 => PreprocessMs, 2 => EncodeMs, 3 => PlanMs, 4 => PublishMs, 5 => RecordMs, 6 => TotalMs,
        _ => throw new ArgumentOutOfRangeException(nameof(section), section, "section must be 0..6"),
    };
}

/// <summary>
/// The simulator's true state at a step (never seen by the model; for evaluation and as training labels):
/// effector position (metres) and block pose (metres, radians).
/// </summary>
public readonly record struct SimStateSample(double EeX, double EeY, double EeZ, double BlockX, double BlockY, double BlockYaw);

/// <summary>What a recorded latent is: the encoding of the observed frame, the model's prediction for it, or a goal.</summary>
public enum LatentKind { Observed, Predicted, Goal }

/// <summary>Things that happen to an episode outside the regular step rows.</summary>
public enum EpisodeEventKind
{
    /// <summary>Emergency stop pressed or commanded.</summary>
    EStop,
    /// <summary>A fault: link error, model error, safety violation.</summary>
    Fault,
    Disconnect,
    Reconnect,
    /// <summary>Records the recorder could not keep (queue full); <see cref="EventRow.Count"/> says how many.</summary>
    Gap,
    /// <summary>A step that missed its deadline.</summary>
    Overrun,
    /// <summary>Anything else worth a line in the log.</summary>
    Note,
    /// <summary>The loop judged a goal of the chain reached at this step and moved to the next (a decision replay repeats).</summary>
    GoalReached,
    /// <summary>The loop dropped the planner's warm start at this step (surprise: replan or pause; a decision replay repeats).</summary>
    WarmStartReset,
}

/// <summary>
/// One planner result as the loop hands it to <see cref="EpisodeRecorder.RecordPlan"/>. The spans are copied
/// into pooled buffers before the call returns, so the caller may reuse its arrays at once.
/// </summary>
public readonly ref struct PlanRecord
{
    /// <summary>The planned action chunk (row-major), e.g. horizon x 7 or horizon x (frameskip * 7).</summary>
    public ReadOnlySpan<float> Chunk { get; init; }

    /// <summary>Shape of <see cref="Chunk"/> (rank 1 to 4; the product must equal Chunk.Length).</summary>
    public ReadOnlySpan<int> ChunkShape { get; init; }

    /// <summary>Best (elite) cost after each iteration, in order.</summary>
    public ReadOnlySpan<float> CostPerIteration { get; init; }

    /// <summary>Planner name, e.g. "cem" (keep it a constant string: the loop should not allocate).</summary>
    public string Planner { get; init; }

    /// <summary>Planner settings as JSON (built once by the host, not per plan).</summary>
    public string? SettingsJson { get; init; }

    public int Iterations { get; init; }
    public long Seed { get; init; }
    public double DeadlineMs { get; init; }
    public double ElapsedMs { get; init; }
    public float FinalCost { get; init; }
}

/// <summary>
/// What one plan got as observed context, as the loop hands it to <see cref="EpisodeRecorder.RecordPlanContext"/>:
/// F frames one action block apart, oldest first, each named by the step it was captured in and its block boundary in
/// that step's chunk (0: the step's own frame, the one in <c>frames</c>; b &gt; 0: a <c>boundary_frames</c> row), with the
/// serial of the last executed action it shows; their latents [F, latent], the F-1 executed blocks between them
/// [F-1, block, dim] (physical units, the model's action frame, as the governor let them out) and the states [F, S].
/// Copied before the call returns.
/// </summary>
public readonly ref struct PlanContextRecord
{
    public ReadOnlySpan<long> FrameSteps { get; init; }
    public ReadOnlySpan<int> FrameBoundaries { get; init; }
    public ReadOnlySpan<long> Serials { get; init; }

    /// <summary>Shape of one frame's latent (rank 1 to 4).</summary>
    public ReadOnlySpan<int> LatentShape { get; init; }

    public ReadOnlySpan<float> Latents { get; init; }
    public ReadOnlySpan<float> PastActions { get; init; }
    public ReadOnlySpan<float> States { get; init; }
    public int ActionBlock { get; init; }
    public int ActionDim { get; init; }
    public int StateDim { get; init; }
}

// ---- rows as the reader returns them (Ticks: MonotonicClock ticks at the Record call) ----

public sealed record FrameRow(long Step, long Ticks, long CaptureTicks, long Sequence, int Width, int Height, string Format, byte[] Data);

public sealed record GoalImageRow(int GoalIndex, long Ticks, long CaptureTicks, int Width, int Height, string Format, byte[] Data);

public sealed record LatentRow(long Step, long Ticks, LatentKind Kind, int[] Shape, float[] Values);

public sealed record PlanRow(
    long Step, long Ticks, string Planner, string? SettingsJson, long Seed, int Iterations, double DeadlineMs,
    double ElapsedMs, float FinalCost, float[] CostPerIteration, int[] ChunkShape, float[] Chunk);

/// <summary>A command as sent after the safety governor. Bit i of <see cref="ClampedAxes"/> is set when axis i was clamped.</summary>
public sealed record CommandRow(long Step, long Ticks, EeCommand Requested, EeCommand Sent, int ClampedAxes, string? Reason)
{
    public bool WasClamped => ClampedAxes != 0;
}

public sealed record ArmStateRow(long Step, long Ticks, ArmState State);

public sealed record SimStateRow(long Step, long Ticks, SimStateSample State);

public sealed record SurpriseRow(long Step, long Ticks, float Value);

/// <summary>One completed step: its timings row.</summary>
public sealed record StepRow(long Step, long Ticks, StepTimings Timings);

public sealed record EventRow(long Step, long Ticks, EpisodeEventKind Kind, string Message, long Count);

/// <summary>
/// A frame the loop captured at block boundary <see cref="Boundary"/> (1..) of step <see cref="Step"/>'s chunk, while
/// the chunk ran, with its latent and (for state models) the arm state then; <see cref="Serial"/>: the executed actions
/// it shows (-1: not told apart).
/// </summary>
public sealed record BoundaryFrameRow(
    long Step, long Ticks, int Boundary, long Serial, long CaptureTicks, long Sequence, int Width, int Height, string Format, byte[] Data,
    int[] LatentShape, float[] Latent, float[] State);

/// <summary>One plan's observed context (<see cref="PlanContextRecord"/>): <see cref="Frames"/> frames, oldest first.</summary>
public sealed record PlanContextRow(
    long Step, long Ticks, int Frames, long[] FrameSteps, int[] FrameBoundaries, long[] Serials, int[] LatentShape,
    int ActionBlock, int ActionDim, int StateDim, float[] Latents, float[] PastActions, float[] States);
