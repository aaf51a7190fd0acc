namespace RobotCtl.Inference.WorldModel;

/// <summary>FLOPs the exporter counted (manifest "flops"; optional): per image, per sample and window length T, and
/// per candidate of the shared-context graph for each split into P shared and T own positions, keyed "P+T" as in
/// model.json (empty when not counted).</summary>
public sealed record ModelFlops(double EncoderPerImage, IReadOnlyDictionary<int, double> PredictorPerSample,
    IReadOnlyDictionary<string, double> SharedContextPerSample)
{
    /// <summary>The shared-context graph's FLOPs per candidate with <paramref name="shared"/> positions given once and
    /// <paramref name="own"/> per candidate; null when the exporter did not count that split.</summary>
    public double? SharedContext(int shared, int own) =>
        SharedContextPerSample.TryGetValue($"{shared}+{own}", out var flops) ? flops : null;
}
