namespace RobotCtl.Planning;

/// <summary>
/// What one plan starts from. <see cref="Latents"/>: 1..History observed frames [F, LatentSize], oldest first
/// (usually just the current frame). <see cref="PastActions"/>: the F-1 action blocks executed between those
/// frames, physical units [F-1, block, dim]
/// (or normalised, see <see cref="PastActionsNormalised"/>). <see cref="States"/>: one state per context frame [F, StateDim],
/// only for models that take states (the last is the current state).
/// </summary>
public readonly ref struct PlanInput
{
    public PlanInput(ReadOnlySpan<float> latents) => Latents = latents;

    public ReadOnlySpan<float> Latents { get; init; }
    public ReadOnlySpan<float> PastActions { get; init; }
    public ReadOnlySpan<float> States { get; init; }

    /// <summary>True: <see cref="PastActions"/> are already in the predictor's normalised units ((a - mean) / std), as
    /// `model score` and `plan --context-actions` take them, and are passed on exactly; false: physical (the loop).</summary>
    public bool PastActionsNormalised { get; init; }

    /// <summary>Blocks of the previous plan executed since it was made: the warm start shifts its mean by this
    /// many blocks and pads with zeros. Ignored on the first plan or after <see cref="LatentPlanner.ResetWarmStart"/>.</summary>
    public int BlocksExecuted { get; init; }

    /// <summary>The seed for this plan; null = derived from the options' seed and the plan count.</summary>
    public ulong? Seed { get; init; }

    /// <summary>Caps this plan's iterations below Options.Iterations (replaying a plan a deadline cut short); null = no cap.</summary>
    public int? MaxIterations { get; init; }

    /// <summary>Absolute deadline (Stopwatch timestamp, <see cref="Core.Timing.MonotonicClock"/>); null = now + options' Deadline, if any.</summary>
    public long? DeadlineTicks { get; init; }
}
