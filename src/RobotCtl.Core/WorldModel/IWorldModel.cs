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

    /// <summary>
    /// Whether the predictor can take a window's leading positions once for the whole batch, when they are the same
    /// for every sample (a plan's observed frames and executed actions): see <see cref="PredictorBuffers.SharedPositions"/>.
    /// </summary>
    bool HasSharedContext => false;

    /// <summary>
    /// Buffers for the shared-context predictor (requires <see cref="HasSharedContext"/>): windows of
    /// <paramref name="shared"/> + <paramref name="time"/> positions whose first <paramref name="shared"/> (0 or more)
    /// are given once (<see cref="PredictorBuffers.ContextLatents"/>, <see cref="PredictorBuffers.ContextActions"/>) and
    /// whose last <paramref name="time"/> are per sample; NextLatents holds the prediction at the window's last
    /// position only (<see cref="PredictorBuffers.OutputPositions"/> = 1), the one a rollout reads.
    /// </summary>
    PredictorBuffers CreatePredictorBuffers(int batch, int time, int shared) =>
        throw new NotSupportedException($"model '{Spec.Name}' has no shared-context predictor");
}
