namespace RobotCtl.Runtime;

public sealed record SurpriseOptions
{
    public const string SectionName = "Surprise";

    public bool Enabled { get; init; } = true;

    /// <summary>Observations that form the baseline before any threshold applies.</summary>
    public int WarmupBlocks { get; init; } = 3;

    /// <summary>Weight of the newest observation in the running baseline (exponential moving average).</summary>
    public double BaselineAlpha { get; init; } = 0.2;

    /// <summary>Surprise above Factor x baseline triggers the action. 0 disables that level.</summary>
    public double ReplanFactor { get; init; } = 3;
    public double PauseFactor { get; init; } = 6;
    public double StopFactor { get; init; } = 12;

    /// <summary>How long a pause holds the arm before planning resumes.</summary>
    public double PauseMs { get; init; } = 1000;

    public void Validate()
    {
        if (WarmupBlocks < 1) throw new ArgumentException($"Surprise:WarmupBlocks: expected >= 1, found {WarmupBlocks}");
        if (!(BaselineAlpha > 0 && BaselineAlpha <= 1)) throw new ArgumentException($"Surprise:BaselineAlpha: expected in (0, 1], found {BaselineAlpha}");
        foreach (var (name, v) in new[] { ("ReplanFactor", ReplanFactor), ("PauseFactor", PauseFactor), ("StopFactor", StopFactor) })
            if (v < 0 || !double.IsFinite(v)) throw new ArgumentException($"Surprise:{name}: expected a finite value >= 0, found {v}");
        if (PauseMs < 0) throw new ArgumentException($"Surprise:PauseMs: expected >= 0, found {PauseMs}");
    }
}
