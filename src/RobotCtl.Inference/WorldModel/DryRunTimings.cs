namespace RobotCtl.Inference.WorldModel;

/// <summary>Wall-clock milliseconds of loading and of the one-sample dry runs (first run includes lazy initialisation).</summary>
public sealed record DryRunTimings(
    double EncoderLoadMs, double PredictorLoadMs,
    double EncoderFirstRunMs, double EncoderRunMs, double PredictorFirstRunMs, double PredictorRunMs);
