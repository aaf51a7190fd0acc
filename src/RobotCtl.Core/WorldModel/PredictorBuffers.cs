namespace RobotCtl.Core.WorldModel;

/// <summary>
/// Preallocated predictor tensors, row-major:
/// Latents [B, T, L], Actions [B, T, block*dim] (normalised), States [B, T, S] (empty when S = 0),
/// NextLatents [B, T, L] where position t predicts frame t+1.
/// </summary>
public abstract class PredictorBuffers : IDisposable
{
    protected PredictorBuffers(int batch, int time, int latentSize, int actionBlockSize, int stateDim)
    {
        if (batch <= 0) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch must be positive");
        if (time <= 0) throw new ArgumentOutOfRangeException(nameof(time), time, "time must be positive");
        Batch = batch; Time = time; LatentSize = latentSize; ActionBlockSize = actionBlockSize; StateDim = stateDim;
    }

    public int Batch { get; }
    public int Time { get; }
    public int LatentSize { get; }
    public int ActionBlockSize { get; }
    public int StateDim { get; }

    public abstract Span<float> Latents { get; }
    public abstract Span<float> Actions { get; }
    public abstract Span<float> States { get; }
    public abstract Span<float> NextLatents { get; }

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
