namespace RobotCtl.Planning.Solvers;

/// <summary>
/// What a solver knows about the problem: a cost per candidate, lower is better (stable-worldmodel's
/// "(context, candidates) -> costs"; the context is bound inside the implementation). Candidates are laid out
/// row-major [costs.Length, dimension]. A candidate that cannot be scored gets +infinity, never NaN.
/// </summary>
public interface ITrajectoryCost
{
    void Evaluate(ReadOnlySpan<float> candidates, Span<float> costs);
}
