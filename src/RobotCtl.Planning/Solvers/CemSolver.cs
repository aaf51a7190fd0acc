using System.Numerics.Tensors;

namespace RobotCtl.Planning.Solvers;

/// <summary>
/// Cross-entropy method as LeWM / stable-worldmodel run it: the elites' mean and their standard deviation
/// (unbiased, as torch.std; 0 with a single elite) become the next sampling distribution.
/// </summary>
public sealed class CemSolver(SolverSettings settings, SearchSpace space, Func<long>? clock = null)
    : PopulationSolver(settings, space, clock)
{
    protected override void Refit(ReadOnlySpan<float> elites, ReadOnlySpan<float> eliteCosts, Span<float> scratch,
        Span<float> mean, Span<float> std)
    {
        var k = eliteCosts.Length;
        var d = mean.Length;
        mean.Clear();
        for (var e = 0; e < k; e++) TensorPrimitives.Add(mean, elites.Slice(e * d, d), mean);
        TensorPrimitives.Multiply(mean, 1f / k, mean);

        std.Clear();
        if (k == 1) return;
        for (var e = 0; e < k; e++)
        {
            TensorPrimitives.Subtract(elites.Slice(e * d, d), mean, scratch);
            TensorPrimitives.MultiplyAdd(scratch, scratch, std, std);
        }
        TensorPrimitives.Multiply(std, 1f / (k - 1), std);
        TensorPrimitives.Sqrt(std, std);
    }
}
