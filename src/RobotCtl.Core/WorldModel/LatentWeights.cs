using System.Globalization;

namespace RobotCtl.Core.WorldModel;

/// <summary>
/// Per-dimension weights of the latent distance to the goal (manifest <c>planner.latent_weights</c>, setting
/// <c>Planner:LatentWeights</c>): the cost becomes sum w_i d_i^2 (mse) or the mean of w_i |d_i| (l1). A list shorter than
/// the latent weights its first dimensions and leaves the rest at 1, so a model whose leading dimensions carry a named
/// quantity (the workcell's effector and block positions) can weigh those alone. Each weight is finite and >= 0, at
/// least one > 0.
/// </summary>
public static class LatentWeights
{
    /// <summary>Checks <paramref name="weights"/> and returns one weight per latent dimension (a new array, padded with 1).
    /// Throws <see cref="ArgumentException"/> naming <paramref name="what"/>, the bad weight, and what was expected.</summary>
    public static float[] Resolve(IReadOnlyList<float> weights, int latentSize, string what)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Count == 0) throw new ArgumentException($"{what}: expected 1..{latentSize} weights (one per latent dimension), found none");
        if (weights.Count > latentSize)
            throw new ArgumentException($"{what}: expected at most {latentSize} weights (the latent's size), found {weights.Count}");
        var full = new float[latentSize];
        Array.Fill(full, 1f);
        for (var i = 0; i < weights.Count; i++)
        {
            var w = weights[i];
            if (!(w >= 0) || !float.IsFinite(w))
                throw new ArgumentException($"{what}[{i}]: expected a finite weight >= 0, found {w.ToString(CultureInfo.InvariantCulture)}");
            full[i] = w;
        }
        if (Array.TrueForAll(full, w => w == 0)) throw new ArgumentException($"{what}: expected at least one weight > 0, found all zero");
        return full;
    }

    /// <summary>Comma-separated weights ("1,1,4,4"), each finite and >= 0; whether they fit a model is
    /// <see cref="Resolve"/>'s to say. Throws <see cref="FormatException"/> with what was found.</summary>
    public static float[] Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (TryParseList(text, out var weights) && Array.TrueForAll(weights, w => w >= 0 && float.IsFinite(w))) return weights;
        throw new FormatException($"expected comma-separated weights >= 0 (the first latent dimensions'), found '{text}'");
    }

    /// <summary>Comma-separated numbers (invariant culture, spaces around each ignored), unchecked beyond parsing: the
    /// reader of both these weights and <see cref="CostShape"/>'s.</summary>
    internal static bool TryParseList(string text, out float[] values)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        values = new float[parts.Length];
        for (var i = 0; i < parts.Length; i++)
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i])) return false;
        return true;
    }

    /// <summary>The weights comma-separated, what <see cref="Parse"/> reads back.</summary>
    public static string Format(IReadOnlyList<float> weights) =>
        string.Join(",", weights.Select(w => w.ToString("R", CultureInfo.InvariantCulture)));
}
