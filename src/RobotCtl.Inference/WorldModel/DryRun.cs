using System.Diagnostics;

namespace RobotCtl.Inference.WorldModel;

/// <summary>
/// One-sample runs of both graphs on deterministic inputs: they must produce finite values of the declared shapes.
/// Each graph runs twice: the first run includes ONNX Runtime's lazy initialisation, the second is a warm timing.
/// </summary>
internal sealed class DryRun(ModelManifest manifest, List<string> problems)
{
    public (double FirstMs, double WarmMs, float[]? Latent) Encoder(OnnxGraph session)
    {
        var image = manifest.Spec.Image;
        long[] shape = [1, 3, image.Height, image.Width];
        var pixels = Pattern(shape, 0.1);
        long[] expected = [1, .. manifest.Spec.LatentShape.Select(d => (long)d)];
        var (first, warm, output) = Run(session, [(manifest.EncoderInput, pixels, shape)], manifest.EncoderOutput, expected);
        return (first, warm, output);
    }

    public (double FirstMs, double WarmMs) Predictor(OnnxGraph session, float[] latent)
    {
        var spec = manifest.Spec;
        int time = ModelCheck.DryRunWindow(spec.History);
        long[] latentShape = [1, time, .. spec.LatentShape.Select(d => (long)d)];
        var latents = new float[time * spec.LatentSize];
        for (int t = 0; t < time; t++) latent.CopyTo(latents, t * spec.LatentSize);
        long[] actionShape = [1, time, spec.ActionBlockSize];
        var inputs = new List<(string, float[], long[])>
        {
            (manifest.LatentsInput, latents, latentShape),
            (manifest.ActionsInput, Pattern(actionShape, 0.3), actionShape),
        };
        if (manifest.StatesInput is { } states)
        {
            long[] stateShape = [1, time, spec.StateDim];
            inputs.Add((states, Pattern(stateShape, 0.4), stateShape));
        }
        var (first, warm, _) = Run(session, inputs, manifest.PredictorOutput, latentShape);
        return (first, warm);
    }

    private (double, double, float[]?) Run(OnnxGraph session, IReadOnlyList<(string, float[], long[])> inputs,
        string output, long[] expected)
    {
        var file = session.ModelPath;
        try
        {
            var clock = Stopwatch.StartNew();
            var (shape, data) = session.RunOnce(inputs, output);
            double first = clock.Elapsed.TotalMilliseconds;
            if (!shape.SequenceEqual(expected))
            {
                problems.Add($"{file}: dry run output '{output}' has shape [{string.Join(", ", shape)}], expected [{string.Join(", ", expected)}] (from model.json)");
                return (first, 0, null);
            }
            int bad = data.Count(v => !float.IsFinite(v));
            if (bad > 0)
            {
                problems.Add($"{file}: dry run output '{output}' is not finite: {bad} of {data.Length} values are NaN or infinite");
                return (first, 0, null);
            }
            clock.Restart();
            session.RunOnce(inputs, output);
            return (first, clock.Elapsed.TotalMilliseconds, data);
        }
        catch (OrtException e)
        {
            problems.Add($"{file}: dry run failed ({e.Code}): {OnnxGraph.Brief(e.NativeMessage)}");
            return (0, 0, null);
        }
    }

    /// <summary>The reference cases' formula inputs, so a dry run feeds what PyTorch's references were computed on.</summary>
    private static float[] Pattern(long[] shape, double offset) => ReferenceCases.Formula(shape.Aggregate(1L, (a, b) => a * b), offset);
}
