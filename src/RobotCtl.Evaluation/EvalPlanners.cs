using RobotCtl.Core.Arm;
using RobotCtl.Core.WorldModel;
using RobotCtl.Planning;
using RobotCtl.Sim;
using RobotCtl.Sim.Tasks;

namespace RobotCtl.Evaluation;

/// <summary>The planners eval can put in the loop instead of the world model's.</summary>
public static class EvalPlanners
{
    /// <summary>The --planner names, one per <see cref="EvalPlanner"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Enum.GetNames<EvalPlanner>().Select(n => n.ToLowerInvariant())];

    /// <summary>The planner a --planner name means, or null when it names none.</summary>
    public static EvalPlanner? Parse(string name) => Names.Contains(name) ? Enum.Parse<EvalPlanner>(name, ignoreCase: true) : null;

    /// <summary>
    /// The oracle: <see cref="ExternalCostPlanner"/> (the model's normalised action space, held dimensions, the rig's
    /// limits, the configured solver and cost shape) scoring candidates with <see cref="SimOracleCost"/> on the
    /// workcell's true state. An upper bound on what planning can achieve with a perfect world model.
    /// </summary>
    public static ExternalCostPlanner Oracle(WorldModelSpec spec, PlannerOptions options, ActionBounds bounds, ActionMapping mapping,
        SimWorkcell world, SimTaskEpisode episode, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(episode);
        if (threads <= 0) threads = Math.Clamp(Environment.ProcessorCount, 1, 2);
        var cost = new SimOracleCost(world, episode.Task, episode.Goal, options.Horizon, spec.ActionBlock, spec.ActionDim,
            options.StepWeights(), mapping, threads);
        try
        {
            return new ExternalCostPlanner(spec, options, bounds, cost);
        }
        catch
        {
            cost.Dispose();
            throw;
        }
    }

    /// <summary>The chance baseline: uniform actions within the limits on the searched dimensions, from the plan's seed.</summary>
    public static RandomPlanner Random(WorldModelSpec spec, PlannerOptions options, ActionBounds bounds) => new(spec, options, bounds);
}
