namespace RobotCtl.Inference.WorldModel;

/// <summary>
/// One case of a model directory's reference/ folder: which graph ran on which formula inputs, and what PyTorch
/// computed for the named output (<paramref name="Expected"/>, row-major, of <paramref name="OutputShape"/>).
/// </summary>
public sealed record ReferenceCase(string Name, string Graph, IReadOnlyList<ReferenceInput> Inputs, string OutputName,
    long[] OutputShape, float[] Expected);
