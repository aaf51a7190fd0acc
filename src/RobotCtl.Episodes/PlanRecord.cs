namespace RobotCtl.Episodes;

/// <summary>
/// One planner result as the loop hands it to <see cref="EpisodeRecorder.RecordPlan"/>. The spans are copied
/// into pooled buffers before the call returns, so the caller may reuse its arrays at once.
/// </summary>
public readonly ref struct PlanRecord
{
    /// <summary>The planned action chunk (row-major), e.g. horizon x 7 or horizon x (frameskip * 7).</summary>
    public ReadOnlySpan<float> Chunk { get; init; }

    /// <summary>Shape of <see cref="Chunk"/> (rank 1 to 4; the product must equal Chunk.Length).</summary>
    public ReadOnlySpan<int> ChunkShape { get; init; }

    /// <summary>Best (elite) cost after each iteration, in order.</summary>
    public ReadOnlySpan<float> CostPerIteration { get; init; }

    /// <summary>Planner name, e.g. "cem" (keep it a constant string: the loop should not allocate).</summary>
    public string Planner { get; init; }

    /// <summary>Planner settings as JSON (built once by the host, not per plan).</summary>
    public string? SettingsJson { get; init; }

    public int Iterations { get; init; }
    public long Seed { get; init; }
    public double DeadlineMs { get; init; }
    public double ElapsedMs { get; init; }
    public float FinalCost { get; init; }
}
