namespace RobotCtl.Inference;

/// <summary>Where a session runs.</summary>
public enum ExecutionProvider
{
    /// <summary>CUDA on the CUDA build when it can start, else CPU (quietly on the CPU build; a warning when the CUDA build cannot start CUDA).</summary>
    Auto,
    Cpu,
    Cuda,
    /// <summary>TensorRT, with CUDA behind it for the nodes TensorRT does not take.</summary>
    TensorRt,
}
