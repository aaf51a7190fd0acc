namespace RobotCtl.Inference;

/// <summary>
/// Which predictor graph a world model runs (setting Inference:Precision): the model's own (fp32), or the int8 one that
/// `robotctl model quantize` writes beside it (its matrix products with constant weights through ONNX Runtime's int8
/// kernels; docs/PERFORMANCE.md says what it buys and costs).
/// </summary>
public enum PredictorPrecision { Fp32, Int8 }
