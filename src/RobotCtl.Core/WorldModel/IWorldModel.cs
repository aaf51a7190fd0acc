namespace RobotCtl.Core.WorldModel;

/// <summary>
/// An action-conditioned latent world model: an encoder from preprocessed frames to latents, and a causal
/// predictor from (latents, actions[, states]) to next latents. The planner knows models only through this
/// interface, so it can be tested with analytic models. Implementations must be safe to call from one thread
/// at a time per buffer set; the ONNX implementation is safe for concurrent calls with distinct buffers.
/// </summary>
public interface IWorldModel : IDisposable
{
    WorldModelSpec Spec { get; }

    /// <summary>
    /// Encodes <paramref name="batch"/> preprocessed images laid out [B, 3, H, W] (see <see cref="ImageSpec"/>)
    /// into <paramref name="latents"/> laid out [B, LatentSize].
    /// </summary>
    void Encode(ReadOnlySpan<float> pixels, int batch, Span<float> latents);

    /// <summary>
    /// Allocates input/output buffers for predictor calls of a fixed batch and window length. Buffers are meant
    /// to be created once (at warm-up) and reused for every call; the implementation may bind native tensors to them.
    /// </summary>
    PredictorBuffers CreatePredictorBuffers(int batch, int time);

    /// <summary>Runs the predictor on <paramref name="buffers"/>' inputs, writing its NextLatents.</summary>
    void Predict(PredictorBuffers buffers);
}

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

/// <summary>Plain managed buffers, for analytic models and tests.</summary>
public sealed class ArrayPredictorBuffers : PredictorBuffers
{
    private readonly float[] _latents, _actions, _states, _next;

    public ArrayPredictorBuffers(int batch, int time, int latentSize, int actionBlockSize, int stateDim)
        : base(batch, time, latentSize, actionBlockSize, stateDim)
    {
        _latents = new float[batch * time * latentSize];
        _actions = new float[batch * time * actionBlockSize];
        _states = new float[batch * time * stateDim];
        _next = new float[batch * time * latentSize];
    }

    public override Span<float> Latents => _latents;
    public override Span<float> Actions => _actions;
    public override Span<float> States => _states;
    public override Span<float> NextLatents => _next;
}

/// <summary>A model that cannot be used, with what is wrong, where, and what was expected versus found.</summary>
public sealed class WorldModelException(string message, Exception? inner = null) : Exception(message, inner);
