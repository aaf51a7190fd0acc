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

    /// <summary>
    /// The shared-context graph against the predictor on every split of every window (P shared positions, P + T up to
    /// the history, batch 2 whose windows share their first P positions): the predictor's last T outputs and the
    /// shared graph's must agree within <see cref="OnnxWorldModel.SharedContextTolerance"/>, relative to the largest output.
    /// </summary>
    public double? SharedContext(OnnxGraph shared, OnnxGraph predictor)
    {
        var spec = manifest.Spec;
        var context = manifest.SharedContext!;
        var dims = spec.LatentShape.Select(d => (long)d).ToArray();
        int l = spec.LatentSize, a = spec.ActionBlockSize;
        double worst = 0;
        for (int window = 2; window <= spec.History; window++)
        {
            for (int p = 1; p < window; p++)
            {
                int t = window - p;
                var latents = Pattern([2, window, .. dims], 0.2);
                var actions = Pattern([2, window, a], 0.3);
                Array.Copy(latents, 0, latents, window * l, p * l);   // the second window starts as the first
                Array.Copy(actions, 0, actions, window * a, p * a);
                var plain = Output(predictor, [(manifest.LatentsInput, latents, [2, window, .. dims]), (manifest.ActionsInput, actions, [2, window, a])]);
                var tailLatents = new float[2 * t * l];
                var tailActions = new float[2 * t * a];
                for (int b = 0; b < 2; b++)
                {
                    Array.Copy(latents, (b * window + p) * l, tailLatents, b * t * l, t * l);
                    Array.Copy(actions, (b * window + p) * a, tailActions, b * t * a, t * a);
                }
                var mine = Output(shared, [
                    (context.ContextLatents, latents[..(p * l)], [1, p, .. dims]), (context.ContextActions, actions[..(p * a)], [1, p, a]),
                    (manifest.LatentsInput, tailLatents, [2, t, .. dims]), (manifest.ActionsInput, tailActions, [2, t, a])]);
                if (plain is null || mine is null) return null;
                double scale = 0, diff = 0;
                for (int b = 0; b < 2; b++)
                    for (int i = 0; i < t * l; i++)
                    {
                        float x = plain[(b * window + p) * l + i], y = mine[b * t * l + i];
                        scale = Math.Max(scale, Math.Abs(x));
                        diff = Math.Max(diff, Math.Abs(x - y));
                    }
                double error = diff / Math.Max(scale, 1e-12);
                if (!(error <= OnnxWorldModel.SharedContextTolerance))
                {
                    problems.Add($"{shared.ModelPath}: the shared-context graph does not compute the predictor: with {p} of {window} " +
                        $"positions shared its outputs differ by {error:G3} of the largest (at most {OnnxWorldModel.SharedContextTolerance:G} expected); " +
                        "export it from the same weights (models/README.md, \"Shared context\") or remove predictor.shared_context from model.json");
                    return null;
                }
                worst = Math.Max(worst, error);
            }
        }
        return worst;
    }

    /// <summary>The int8 shared-context graph: one run per split of the full window, finite, of the declared shape
    /// (a failure is added to the problems).</summary>
    public void SharedContextRuns(OnnxGraph shared)
    {
        var spec = manifest.Spec;
        var context = manifest.SharedContext!;
        var dims = spec.LatentShape.Select(d => (long)d).ToArray();
        int a = spec.ActionBlockSize;
        for (int p = 1; p < spec.History; p++)
        {
            int t = spec.History - p;
            var (_, _, output) = Run(shared, [
                (context.ContextLatents, Pattern([1, p, .. dims], 0.2), [1, p, .. dims]), (context.ContextActions, Pattern([1, p, a], 0.3), [1, p, a]),
                (manifest.LatentsInput, Pattern([2, t, .. dims], 0.25), [2, t, .. dims]), (manifest.ActionsInput, Pattern([2, t, a], 0.35), [2, t, a])],
                manifest.PredictorOutput, [2, t, .. dims]);
            if (output is null) return;
        }
    }

    private float[]? Output(OnnxGraph session, IReadOnlyList<(string, float[], long[])> inputs)
    {
        try
        {
            var (_, data) = session.RunOnce(inputs, manifest.PredictorOutput);
            return data;
        }
        catch (OrtException e)
        {
            problems.Add($"{session.ModelPath}: dry run failed ({e.Code}): {OnnxGraph.Brief(e.NativeMessage)}");
            return null;
        }
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
