using RobotCtl.Runtime.Composition;
using RobotCtl.Runtime.Devices;

namespace RobotCtl.Runtime;

/// <summary>What a <see cref="ControlSession"/> is opened for: its goal images, and what a caller brings beyond settings.</summary>
/// <param name="Goals">Goal image paths, in order (sub-goals first).</param>
public sealed record ControlSessionRequest(IReadOnlyList<string> Goals)
{
    /// <summary>What the run's camera and arm share, with anything the caller supplies (a workcell it watches); null: a new one.</summary>
    public RunWorld? World { get; init; }

    /// <summary>A planner instead of the world model's (eval's baselines); null: the model's.</summary>
    public PlannerChoice? Planner { get; init; }

    /// <summary>Judges success instead of the latent-distance threshold (the demo and eval: the sim's true state).</summary>
    public Func<int, bool>? ExternalSuccess { get; init; }
}
