namespace RobotCtl.Inference;

/// <summary>Whether independent nodes of a graph may run in parallel (inter-op threads) or one after another.</summary>
public enum ExecutionMode
{
    Sequential = 0,
    Parallel = 1,
}
