namespace RobotCtl.Inference;

/// <summary>ONNX Runtime's error codes (OrtErrorCode in the C API).</summary>
public enum OrtErrorCode
{
    Ok = 0,
    Fail = 1,
    InvalidArgument = 2,
    NoSuchFile = 3,
    NoModel = 4,
    EngineError = 5,
    RuntimeException = 6,
    InvalidProtobuf = 7,
    ModelLoaded = 8,
    NotImplemented = 9,
    InvalidGraph = 10,
    EpFail = 11,
}

/// <summary>A call into ONNX Runtime failed: <see cref="Code"/> and the runtime's own message.</summary>
public sealed class OrtException(OrtErrorCode code, string message)
    : Exception($"ONNX Runtime error {code}: {message}")
{
    public OrtErrorCode Code { get; } = code;

    /// <summary>The message exactly as ONNX Runtime gave it.</summary>
    public string NativeMessage { get; } = message;
}

/// <summary>
/// ONNX Runtime cannot be used as configured: the library is missing or too old, or the requested execution provider
/// is not in the loaded build. The message says what was looked for, where, and how to fix it.
/// </summary>
public sealed class InferenceSetupException(string message, Exception? inner = null) : Exception(message, inner);
