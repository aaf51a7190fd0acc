namespace RobotCtl.Inference;

/// <summary>A tensor for one named graph input or output in <see cref="OnnxGraph.Run"/>.</summary>
public readonly record struct NamedTensor(string Name, OrtTensor Tensor);
