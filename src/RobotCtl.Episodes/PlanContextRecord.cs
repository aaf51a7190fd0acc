namespace RobotCtl.Episodes;

/// <summary>
/// What one plan got as observed context, as the loop hands it to <see cref="EpisodeRecorder.RecordPlanContext"/>:
/// F frames one action block apart, oldest first, each named by the step it was captured in and its block boundary in
/// that step's chunk (0: the step's own frame, the one in <c>frames</c>; b &gt; 0: a <c>boundary_frames</c> row), with the
/// serial of the last executed action it shows; their latents [F, latent], the F-1 executed blocks between them
/// [F-1, block, dim] (physical units, the model's action frame, as the governor let them out) and the states [F, S].
/// Copied before the call returns.
/// </summary>
public readonly ref struct PlanContextRecord
{
    public ReadOnlySpan<long> FrameSteps { get; init; }
    public ReadOnlySpan<int> FrameBoundaries { get; init; }
    public ReadOnlySpan<long> Serials { get; init; }

    /// <summary>Shape of one frame's latent (rank 1 to 4).</summary>
    public ReadOnlySpan<int> LatentShape { get; init; }

    public ReadOnlySpan<float> Latents { get; init; }
    public ReadOnlySpan<float> PastActions { get; init; }
    public ReadOnlySpan<float> States { get; init; }
    public int ActionBlock { get; init; }
    public int ActionDim { get; init; }
    public int StateDim { get; init; }
}
