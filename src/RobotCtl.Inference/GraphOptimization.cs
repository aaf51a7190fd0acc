namespace RobotCtl.Inference;

/// <summary>ONNX Runtime's graph optimisation levels.</summary>
public enum GraphOptimization
{
    Disabled = 0,
    Basic = 1,
    Extended = 2,
    All = 99,
}
