namespace RobotCtl.Inference;

/// <summary>
/// How sessions are created (configuration section "Inference"). Defaults suit the CPU build on a small machine.
/// </summary>
public sealed record InferenceOptions
{
    public ExecutionProvider Provider { get; init; } = ExecutionProvider.Auto;

    /// <summary>GPU index for Cuda/TensorRt.</summary>
    public int DeviceId { get; init; }

    /// <summary>Threads inside one operator (matrix products); 0 = ONNX Runtime's default (one per physical core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Threads across independent operators (only with <see cref="ExecutionMode.Parallel"/>); 0 = default.</summary>
    public int InterOpThreads { get; init; }

    public GraphOptimization Optimization { get; init; } = GraphOptimization.All;

    /// <summary>fp32: the model's predictor; int8: its quantised sibling (made by `robotctl model quantize`), opt-in.</summary>
    public PredictorPrecision Precision { get; init; } = PredictorPrecision.Fp32;

    public ExecutionMode ExecutionMode { get; init; } = ExecutionMode.Sequential;

    /// <summary>
    /// Whether idle intra-op threads spin waiting for work (ONNX Runtime's own default is to spin). Off here: spinning
    /// burns cores that the camera, planner and links need, and measured slower on a busy 2-core machine
    /// (docs/PERFORMANCE.md).
    /// </summary>
    public bool AllowSpinning { get; init; }

    /// <summary>
    /// When set, ONNX Runtime profiles every run of the session and writes a Chrome-trace JSON named
    /// PREFIX_&lt;date&gt;.json when the session is disposed (per-operator times; for performance work, not production).
    /// </summary>
    public string? ProfileFilePrefix { get; init; }

    public static InferenceOptions Default { get; } = new();
}
