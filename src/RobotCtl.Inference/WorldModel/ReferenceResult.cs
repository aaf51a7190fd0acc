namespace RobotCtl.Inference.WorldModel;

/// <summary>
/// How one reference case came out: the largest |ONNX Runtime - reference| difference, the same relative to the
/// largest |reference| value, and where it was. <see cref="Problem"/> says why a case could not be compared at all.
/// </summary>
public sealed record ReferenceResult
{
    public required string Case { get; init; }
    public required string Graph { get; init; }
    public double MaxAbsDiff { get; init; }

    /// <summary><see cref="MaxAbsDiff"/> / <see cref="MaxReference"/>: elementwise ratios blow up where outputs cross zero.</summary>
    public double MaxRelDiff { get; init; }

    public double MaxReference { get; init; }
    public double Tolerance { get; init; }

    /// <summary>Flat row-major index of the largest difference, with the reference's value and ONNX Runtime's there.</summary>
    public long WorstIndex { get; init; }
    public float Expected { get; init; }
    public float Found { get; init; }

    public string? Problem { get; init; }
    public bool Passed => Problem is null && MaxAbsDiff <= Tolerance;
}
