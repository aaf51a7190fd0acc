namespace RobotCtl.Inference.WorldModel;

/// <summary>FLOPs the exporter counted (manifest "flops"; optional): per image, and per sample and window length T.</summary>
public sealed record ModelFlops(double EncoderPerImage, IReadOnlyDictionary<int, double> PredictorPerSample);
