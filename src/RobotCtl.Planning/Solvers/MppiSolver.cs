using System.Numerics.Tensors;

namespace RobotCtl.Planning.Solvers;

/// <summary>
/// MPPI as TD-MPC2 runs it: the elites are weighted by exp(-(cost - min cost) / Temperature), normalised;
/// mean and std are the weighted mean and weighted standard deviation (then clamped to [MinStd, MaxStd]).
/// </summary>
public sealed class MppiSolver(SolverSettings settings, SearchSpace space, Func<long>? clock = null)
    : PopulationSolver(settings, space, clock)
{
    private readonly float[] _weights = new float[settings.TopK];

    protected override void Refit(ReadOnlySpan<float> elites, ReadOnlySpan<float> eliteCosts, Span<float> scratch,
        Span<float> mean, Span<float> std)
    {
        var k = eliteCosts.Length;
        var d = mean.Length;
        var weights = _weights.AsSpan(0, k);
        var best = eliteCosts[0]; // elites arrive best first
        if (float.IsFinite(best))
        {
            // exp(-(c - best) / T): 1 for the best elite, 0 for unscorable (+inf) ones.
            TensorPrimitives.Subtract(eliteCosts, best, weights);
            TensorPrimitives.Multiply(weights, -1f / Settings.Temperature, weights);
            TensorPrimitives.Exp(weights, weights);
        }
        else
        {
            weights.Fill(1f); // nothing scored: no preference
        }
        TensorPrimitives.Multiply(weights, 1f / TensorPrimitives.Sum(weights), weights);

        mean.Clear();
        for (var e = 0; e < k; e++) TensorPrimitives.MultiplyAdd(elites.Slice(e * d, d), weights[e], mean, mean);
        std.Clear();
        for (var e = 0; e < k; e++)
        {
            TensorPrimitives.Subtract(elites.Slice(e * d, d), mean, scratch);
            TensorPrimitives.Multiply(scratch, scratch, scratch);
            TensorPrimitives.MultiplyAdd(scratch, weights[e], std, std);
        }
        TensorPrimitives.Sqrt(std, std);
    }
}
