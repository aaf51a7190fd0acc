namespace RobotCtl.Inference;

/// <summary>
/// ONNX Runtime cannot be used as configured: its native library cannot be loaded, or the requested execution provider
/// cannot start (not in this build, or its CUDA libraries or GPU missing). The message says what and how to fix it.
/// </summary>
public sealed class InferenceSetupException(string message, Exception? inner = null) : Exception(message, inner);
