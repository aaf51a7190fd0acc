namespace RobotCtl.Inference.WorldModel;

/// <summary>
/// One input of a reference case. The values are not stored: they are regenerated from the formula
/// (<see cref="ReferenceCases.Formula"/>) with this input's offset, as PyTorch's side generated them.
/// </summary>
public sealed record ReferenceInput(string Name, long[] Shape, double Offset)
{
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);

    public float[] Values() => ReferenceCases.Formula(Count, Offset);
}
