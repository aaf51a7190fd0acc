namespace RobotCtl.Core.Vision;

/// <summary>
/// Exact area averaging along one axis, the arithmetic every downsampling in robotctl shares (the preprocessor, the
/// HDF5 export): output pixel i is the mean of the source pixels under its footprint [i*s, (i+1)*s), s = source/target,
/// each weighted by the fraction it covers (weights sum to 1). Weights are computed in double and stored as float, so
/// the model sees the same numbers whichever path resized its image. Every output reads <see cref="Taps"/> consecutive
/// source pixels from <see cref="Start"/>[i]; unused taps weigh 0 (one fixed-length loop, no branches per pixel).
/// </summary>
public sealed class AreaWeights
{
    private AreaWeights(int source, int target, int taps)
    {
        Source = source;
        Target = target;
        Taps = taps;
        Start = new int[target];
        Weight = new float[target * taps];
    }

    public int Source { get; }
    public int Target { get; }
    public int Taps { get; }

    /// <summary>First source index read by each output pixel.</summary>
    public int[] Start { get; }

    /// <summary>Target x Taps weights, row i for output pixel i.</summary>
    public float[] Weight { get; }

    /// <summary>Weights for downsampling (or copying: target == source) <paramref name="source"/> pixels to <paramref name="target"/>.</summary>
    public static AreaWeights Compute(int source, int target)
    {
        if (source <= 0 || target <= 0) throw new ArgumentOutOfRangeException(nameof(target), $"sizes must be positive, found {source} -> {target}");
        if (target > source) throw new ArgumentOutOfRangeException(nameof(target), $"area averaging only downsamples, found {source} -> {target}");
        var s = (double)source / target;
        var taps = Math.Min((int)Math.Ceiling(s) + 1, source); // the window never runs past the end
        var w = new AreaWeights(source, target, taps);
        for (var i = 0; i < target; i++)
        {
            double lo = i * s, hi = Math.Min((i + 1) * s, source);
            var first = (int)Math.Floor(lo);
            w.Start[i] = Math.Min(first, source - taps);
            for (var j = first; j < hi && j < source; j++)
            {
                var overlap = Math.Min(j + 1.0, hi) - Math.Max(j, lo);
                if (overlap > 0) w.Weight[i * taps + (j - w.Start[i])] = (float)(overlap / s);
            }
        }
        return w;
    }
}
