namespace RobotCtl.Planning.Solvers;

/// <summary>
/// The box a solver searches: per-variable clip bounds (a variable with Lower == Upper is held at that value)
/// and dead zones (a value strictly inside (Low, High) snaps to SnapTo, e.g. V-JEPA 2-AC's gripper dead-band).
/// Every candidate a solver scores lies inside it.
/// </summary>
public sealed class SearchSpace
{
    public SearchSpace(float[] lower, float[] upper, DeadZone[]? deadZones = null)
    {
        ArgumentNullException.ThrowIfNull(lower);
        ArgumentNullException.ThrowIfNull(upper);
        if (lower.Length == 0 || lower.Length != upper.Length)
            throw new ArgumentException($"SearchSpace: lower and upper need the same non-zero length, found {lower.Length} and {upper.Length}");
        for (var i = 0; i < lower.Length; i++)
            if (!(lower[i] <= upper[i]))
                throw new ArgumentException($"SearchSpace variable {i}: expected lower <= upper, found [{lower[i]}, {upper[i]}]");
        deadZones ??= [];
        foreach (var z in deadZones)
            if ((uint)z.Index >= (uint)lower.Length || !(z.Low <= z.High))
                throw new ArgumentException($"SearchSpace dead zone on variable {z.Index}: expected index < {lower.Length} and Low <= High, found ({z.Low}, {z.High})");
        Lower = lower; Upper = upper; DeadZones = deadZones;
    }

    /// <summary>An unbounded space (LeWM: no clipping).</summary>
    public static SearchSpace Unbounded(int dimension) =>
        new(Enumerable.Repeat(float.NegativeInfinity, dimension).ToArray(), Enumerable.Repeat(float.PositiveInfinity, dimension).ToArray());

    public int Dimension => Lower.Length;
    public float[] Lower { get; }
    public float[] Upper { get; }
    public DeadZone[] DeadZones { get; }

    public bool IsHeld(int variable) => Lower[variable] == Upper[variable];

    /// <summary>Clips one candidate into the box, then applies the dead zones.</summary>
    public void Project(Span<float> candidate)
    {
        System.Numerics.Tensors.TensorPrimitives.Max(candidate, Lower, candidate);
        System.Numerics.Tensors.TensorPrimitives.Min(candidate, Upper, candidate);
        foreach (var z in DeadZones)
        {
            ref var v = ref candidate[z.Index];
            if (v > z.Low && v < z.High) v = z.SnapTo;
        }
    }
}
