namespace RobotCtl.Inference.WorldModel;

/// <summary>A graph's inputs and outputs as ONNX Runtime reports them.</summary>
public sealed record GraphSignature(string File, IReadOnlyList<TensorMetadata> Inputs, IReadOnlyList<TensorMetadata> Outputs);
