namespace RobotCtl.Runtime;

/// <summary>
/// Violation-of-expectation monitor: after each executed block, the distance between the latent the model
/// predicted for that moment and the latent observed, compared with a running baseline of such distances.
/// A jump means the world did not behave as the model expected (collision, dropped object, a person). The distance is
/// <see cref="Core.WorldModel.LatentDistance.MeanSquared"/>.
/// </summary>
public sealed class SurpriseMonitor(SurpriseOptions options)
{
    private int _observations;

    /// <summary>Running baseline of surprise (EMA); NaN before the first observation.</summary>
    public double Baseline { get; private set; } = double.NaN;

    public double Last { get; private set; } = double.NaN;

    /// <summary>Surprise relative to the baseline before this observation (NaN during warm-up).</summary>
    public double LastRatio { get; private set; } = double.NaN;

    public SurpriseAction Observe(double surprise)
    {
        Last = surprise;
        if (!options.Enabled) return SurpriseAction.None;
        if (!double.IsFinite(surprise)) return SurpriseAction.Stop; // a NaN latent is itself a fault
        var action = SurpriseAction.None;
        if (_observations >= options.WarmupBlocks && Baseline > 0)
        {
            LastRatio = surprise / Baseline;
            if (options.StopFactor > 0 && LastRatio >= options.StopFactor) action = SurpriseAction.Stop;
            else if (options.PauseFactor > 0 && LastRatio >= options.PauseFactor) action = SurpriseAction.Pause;
            else if (options.ReplanFactor > 0 && LastRatio >= options.ReplanFactor) action = SurpriseAction.Replan;
        }
        else LastRatio = double.NaN;
        // Surprising observations do not feed the baseline: one collision must not teach the monitor to expect collisions.
        if (action == SurpriseAction.None)
            Baseline = double.IsNaN(Baseline) ? surprise : Baseline + options.BaselineAlpha * (surprise - Baseline);
        _observations++;
        return action;
    }
}
