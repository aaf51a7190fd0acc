using RobotCtl.Planning;

namespace RobotCtl.Runtime.Composition;

/// <summary>A planner other than the world model's (eval's oracle and random baselines): its recorded name and how to make it.</summary>
public sealed record PlannerChoice(string Name, Func<PlannerContext, IPlanner> Create)
{
    /// <summary>
    /// Whether the planner reads observed context (latents, executed blocks, states): then the loop collects
    /// Planner:ContextFrames frames for it, as for the world model's planner. False (the oracle, random): one frame.
    /// </summary>
    public bool UsesContext { get; init; }
}
