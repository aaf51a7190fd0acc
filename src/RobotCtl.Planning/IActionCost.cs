namespace RobotCtl.Planning;

/// <summary>
/// Scores candidate action chunks in physical units, outside any world model (the simulator's true dynamics for the
/// oracle baseline). Candidates arrive bounded by the rig's limits, with unsearched dimensions exactly zero.
/// </summary>
public interface IActionCost
{
    /// <summary>Called once at the start of every plan, before any <see cref="Evaluate"/>: bind the current world here.</summary>
    void BeginPlan(in PlanInput input);

    /// <summary>
    /// One cost per candidate, lower is better; candidates are row-major [costs.Length, Horizon * Block * ActionDim]
    /// (one low-level action of ActionDim values after another). Must not allocate.
    /// </summary>
    void Evaluate(ReadOnlySpan<float> candidates, Span<float> costs);
}
