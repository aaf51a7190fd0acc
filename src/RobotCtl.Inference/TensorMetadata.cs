namespace RobotCtl.Inference;

/// <summary>
/// A graph input or output as the session reports it. <see cref="Shape"/> holds -1 for a dynamic dimension, whose
/// symbolic name (e.g. "batch") is in <see cref="DimensionNames"/> ("" when the export gave none).
/// </summary>
public sealed record TensorMetadata(
    string Name, bool IsTensor, TensorElementType ElementType, IReadOnlyList<long> Shape, IReadOnlyList<string> DimensionNames)
{
    public int Rank => Shape.Count;

    public bool IsDynamic(int dimension) => Shape[dimension] < 0;

    /// <summary>"pixels: float32[batch, 3, 64, 64]".</summary>
    public override string ToString() => $"{Name}: {TypeName(ElementType)}[{FormatShape()}]";

    public string FormatShape() => string.Join(", ", Shape.Select((d, i) =>
        d >= 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture)
        : DimensionNames[i].Length > 0 ? DimensionNames[i] : "?"));

    public static string TypeName(TensorElementType type) => type switch
    {
        TensorElementType.Float => "float32",
        TensorElementType.Double => "float64",
        TensorElementType.Float16 => "float16",
        TensorElementType.BFloat16 => "bfloat16",
        _ => type.ToString().ToLowerInvariant(),
    };
}
