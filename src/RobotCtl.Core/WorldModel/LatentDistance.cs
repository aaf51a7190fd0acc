namespace RobotCtl.Core.WorldModel;

/// <summary>
/// The one distance between two latents that the loop's goal check, its surprise monitor and the dashboard report:
/// the mean squared difference per element, comparable across latent sizes.
/// </summary>
public static class LatentDistance
{
    public static double MeanSquared(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"latent lengths differ: {a.Length} and {b.Length}");
        double sum = 0;
        for (var i = 0; i < a.Length; i++) { var d = (double)a[i] - b[i]; sum += d * d; }
        return sum / Math.Max(1, a.Length);
    }
}
