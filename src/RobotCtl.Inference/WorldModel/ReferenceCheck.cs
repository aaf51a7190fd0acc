namespace RobotCtl.Inference.WorldModel;

/// <summary>
/// Runs a model directory's reference cases through the loaded model's graphs with ONNX Runtime and compares each
/// output with PyTorch's, as the importers, make_models and the training export rely on `model check` to do.
/// </summary>
public static class ReferenceCheck
{
    public const double AbsoluteTolerance = 1e-4;
    public const double RelativeTolerance = 1e-3;

    /// <summary>1e-4 + 1e-3 x max|reference|: float32 rounding grows with the size of the values compared.</summary>
    public static double Tolerance(double maxReference) => AbsoluteTolerance + RelativeTolerance * maxReference;

    public static IReadOnlyList<ReferenceResult> Run(OnnxWorldModel model, IReadOnlyList<ReferenceCase> cases) =>
        cases.Select(c => Run(model, c)).ToList();

    public static ReferenceResult Run(OnnxWorldModel model, ReferenceCase c)
    {
        OnnxGraph? graph = c.Graph switch
        {
            "encoder" => model.Encoder,
            "predictor" => model.Predictor,
            _ => null,
        };
        if (graph is null) return Failed(c, $"graph '{c.Graph}' is neither encoder nor predictor");

        // The case's own tensor names, not the manifest's: a reference written for other names must fail, not pass.
        long[] shape;
        float[] found;
        try
        {
            (shape, found) = graph.RunOnce(c.Inputs.Select(i => (i.Name, i.Values(), i.Shape)).ToList(), c.OutputName);
        }
        catch (Exception e) when (e is OrtException or ArgumentException)
        {
            return Failed(c, e is OrtException o ? $"ONNX Runtime failed ({o.Code}): {OnnxGraph.Brief(o.NativeMessage)}" : e.Message);
        }
        if (!shape.SequenceEqual(c.OutputShape))
            return Failed(c, $"output '{c.OutputName}' has shape [{string.Join(", ", shape)}], the reference [{string.Join(", ", c.OutputShape)}]");

        double maxAbs = 0, maxReference = 0;
        long worst = 0;
        for (long i = 0; i < found.Length; i++)
        {
            double d = Math.Abs((double)found[i] - c.Expected[i]);
            if (double.IsNaN(d)) d = double.PositiveInfinity;   // a NaN on either side is as far off as can be
            if (d > maxAbs) (maxAbs, worst) = (d, i);
            maxReference = Math.Max(maxReference, Math.Abs((double)c.Expected[i]));
        }
        return new ReferenceResult
        {
            Case = c.Name,
            Graph = c.Graph,
            MaxAbsDiff = maxAbs,
            MaxRelDiff = maxReference > 0 ? maxAbs / maxReference : maxAbs,
            MaxReference = maxReference,
            Tolerance = Tolerance(maxReference),
            WorstIndex = worst,
            Expected = found.Length > 0 ? c.Expected[worst] : 0,
            Found = found.Length > 0 ? found[worst] : 0,
        };
    }

    /// <summary>One line for a case that failed: which case, how far off, where, expected versus found, the tolerance.</summary>
    public static string Describe(ReferenceResult r) => r.Problem is { } problem
        ? $"reference case {r.Case} ({r.Graph}): {problem}"
        : $"reference case {r.Case} ({r.Graph}): max |ONNX Runtime - reference| {r.MaxAbsDiff:g3} at index {r.WorstIndex} " +
          $"(expected {r.Expected:g6}, found {r.Found:g6}) exceeds the tolerance {r.Tolerance:g3} = " +
          $"{AbsoluteTolerance:g1} + {RelativeTolerance:g1} x max|reference| {r.MaxReference:g4}";

    private static ReferenceResult Failed(ReferenceCase c, string problem) => new() { Case = c.Name, Graph = c.Graph, Problem = problem };
}
