namespace RobotCtl.Core.WorldModel;

/// <summary>
/// Preallocated predictor tensors, row-major:
/// Latents [B, T, L], Actions [B, T, block*dim] (normalised), States [B, T, S] (empty when S = 0),
/// NextLatents [B, O, L]: the predictions at the window's last O = <see cref="OutputPositions"/> positions, where
/// position t predicts frame t+1 (the plain predictor gives every position, O = T; the shared-context graph the last, O = 1).
/// With <see cref="SharedPositions"/> P > 0 the window is P + T positions: the first P, the same for every sample, in
/// ContextLatents [1, P, L] and ContextActions [1, P, block*dim]; the per-sample arrays hold the last T positions.
/// </summary>
public abstract class PredictorBuffers : IDisposable
{
    protected PredictorBuffers(int batch, int time, int latentSize, int actionBlockSize, int stateDim, int sharedPositions = 0,
        int? outputPositions = null)
    {
        if (batch <= 0) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch must be positive");
        if (time <= 0) throw new ArgumentOutOfRangeException(nameof(time), time, "time must be positive");
        if (sharedPositions < 0) throw new ArgumentOutOfRangeException(nameof(sharedPositions), sharedPositions, "shared positions must be >= 0");
        Batch = batch; Time = time; LatentSize = latentSize; ActionBlockSize = actionBlockSize; StateDim = stateDim;
        SharedPositions = sharedPositions;
        OutputPositions = outputPositions ?? time;
        if (OutputPositions < 1 || OutputPositions > time)
            throw new ArgumentOutOfRangeException(nameof(outputPositions), outputPositions, $"output positions must be 1..{time}");
    }

    public int Batch { get; }
    public int Time { get; }
    public int LatentSize { get; }
    public int ActionBlockSize { get; }
    public int StateDim { get; }

    /// <summary>Leading window positions given once for the whole batch (0: every position per sample).</summary>
    public int SharedPositions { get; }

    /// <summary>The window's last positions whose predictions NextLatents holds (T: every position).</summary>
    public int OutputPositions { get; }

    public abstract Span<float> Latents { get; }
    public abstract Span<float> Actions { get; }
    public abstract Span<float> States { get; }
    public abstract Span<float> NextLatents { get; }
    public virtual Span<float> ContextLatents => Span<float>.Empty;
    public virtual Span<float> ContextActions => Span<float>.Empty;

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
