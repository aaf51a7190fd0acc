using System.Globalization;

namespace RobotCtl.Core.WorldModel;

/// <summary>
/// How a plan's per-step distances to the goal are weighted over the horizon (manifest <c>planner.cost_shape</c>,
/// setting <c>Planner:CostShape</c>): <see cref="Last"/> counts only the last predicted step (LeWM), <see cref="Sum"/>
/// weights every step 1, <see cref="FromWeights"/> gives one non-negative weight per step. Last and Sum fit any
/// horizon; explicit weights fit only a horizon of their length (<see cref="Resolve"/>).
/// </summary>
public sealed class CostShape
{
    private readonly float[]? _weights;

    private CostShape(CostShapeKind kind, float[]? weights)
    {
        Kind = kind;
        _weights = weights;
    }

    public static CostShape Last { get; } = new(CostShapeKind.Last, null);
    public static CostShape Sum { get; } = new(CostShapeKind.Sum, null);

    public CostShapeKind Kind { get; }

    /// <summary>The explicit weights (<see cref="CostShapeKind.Weights"/> only), else null.</summary>
    public IReadOnlyList<float>? Weights => _weights;

    /// <summary>One weight per horizon step: each finite and >= 0, at least one > 0. Throws <see cref="ArgumentException"/> naming the bad one.</summary>
    public static CostShape FromWeights(IReadOnlyList<float> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Count == 0) throw new ArgumentException("cost shape: expected at least one weight, found none");
        var copy = new float[weights.Count];
        var anyPositive = false;
        for (var i = 0; i < copy.Length; i++)
        {
            var w = weights[i];
            if (!(w >= 0) || !float.IsFinite(w)) throw new ArgumentException($"cost shape weight {i + 1}: expected a finite value >= 0, found {w.ToString(CultureInfo.InvariantCulture)}");
            anyPositive |= w > 0;
            copy[i] = w;
        }
        if (!anyPositive) throw new ArgumentException("cost shape: expected at least one weight > 0, found all zero");
        return new CostShape(CostShapeKind.Weights, copy);
    }

    /// <summary>
    /// Parses "last", "sum" or comma-separated weights ("0,0,1,1,2"). Throws <see cref="FormatException"/> saying
    /// what was expected and what was found.
    /// </summary>
    public static CostShape Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        if (t.Equals("last", StringComparison.OrdinalIgnoreCase)) return Last;
        if (t.Equals("sum", StringComparison.OrdinalIgnoreCase)) return Sum;
        if (!LatentWeights.TryParseList(t, out var weights))
            throw new FormatException($"expected last, sum or comma-separated weights >= 0 (one per horizon step), found '{text}'");
        try
        {
            return FromWeights(weights);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"{e.Message} in '{text}'", e);
        }
    }

    /// <summary>
    /// The weight of each of <paramref name="horizon"/> steps (a new array). Throws <see cref="ArgumentException"/> when
    /// explicit weights are not <paramref name="horizon"/> long.
    /// </summary>
    public float[] Resolve(int horizon)
    {
        if (horizon < 1) throw new ArgumentOutOfRangeException(nameof(horizon), horizon, "cost shape: expected a horizon >= 1");
        switch (Kind)
        {
            case CostShapeKind.Sum:
                return Enumerable.Repeat(1f, horizon).ToArray();
            case CostShapeKind.Weights:
                if (_weights!.Length != horizon)
                    throw new ArgumentException($"cost shape {this}: expected {horizon} weights (one per horizon step), found {_weights.Length}");
                return (float[])_weights.Clone();
            default:
                var last = new float[horizon];
                last[^1] = 1f;
                return last;
        }
    }

    /// <summary>"last", "sum" or the weights comma-separated: what <see cref="Parse"/> reads back.</summary>
    public override string ToString() => Kind switch
    {
        CostShapeKind.Last => "last",
        CostShapeKind.Sum => "sum",
        _ => string.Join(",", _weights!.Select(w => w.ToString("R", CultureInfo.InvariantCulture))),
    };
}
