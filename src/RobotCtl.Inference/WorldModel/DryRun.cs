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
    /// The shared-context graph against the predictor on every split of every window (P >= 0 shared positions, T >= 1
    /// own, P + T up to the history, batch 2 whose windows share their first P positions): the predictor's output at
    /// the window's last position and the shared graph's (its only one) must agree within
    /// <see cref="OnnxWorldModel.SharedContextTolerance"/>, relative to the largest output.
    /// </summary>
    public double? SharedContext(OnnxGraph shared, OnnxGraph predictor)
    {
        var spec = manifest.Spec;
        var dims = spec.LatentShape.Select(d => (long)d).ToArray();
        int l = spec.LatentSize, a = spec.ActionBlockSize;
        double worst = 0;
        for (int window = 1; window <= spec.History; window++)
        {
            for (int p = 0; p < window; p++)
            {
                var latents = Pattern([2, window, .. dims], 0.2);
                var actions = Pattern([2, window, a], 0.3);
                Array.Copy(latents, 0, latents, window * l, p * l);   // the second window starts as the first
                Array.Copy(actions, 0, actions, window * a, p * a);
                var plain = Output(predictor, [(manifest.LatentsInput, latents, [2, window, .. dims]), (manifest.ActionsInput, actions, [2, window, a])]);
                var mine = SharedOutput(shared, latents, actions, window, p);
                if (plain is null || mine is null) return null;
                double scale = 0, diff = 0;
                for (int b = 0; b < 2; b++)
                    for (int i = 0; i < l; i++)
                    {
                        float x = plain[(b * window + window - 1) * l + i], y = mine[b * l + i];
                        scale = Math.Max(scale, Math.Abs(x));
                        diff = Math.Max(diff, Math.Abs(x - y));
                    }
                double error = diff / Math.Max(scale, 1e-12);
                if (!(error <= OnnxWorldModel.SharedContextTolerance))
                {
                    problems.Add($"{shared.ModelPath}: the shared-context graph does not compute the predictor: with {p} of {window} " +
                        $"positions shared its last position differs by {error:G3} of the largest (at most {OnnxWorldModel.SharedContextTolerance:G} expected); " +
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
        var dims = spec.LatentShape.Select(d => (long)d).ToArray();
        int h = spec.History, a = spec.ActionBlockSize;
        for (int p = 0; p < h; p++)
            if (SharedOutput(shared, Pattern([2, h, .. dims], 0.25), Pattern([2, h, a], 0.35), h, p) is null) return;
    }

    /// <summary>
    /// The shared graph on windows [2, <paramref name="window"/>] split after <paramref name="p"/> positions (the first
    /// sample's leading positions as the context): its output, finite and of shape [2, 1, latent], or null with the
    /// problem added. A graph that gives every position (exported before it gave only the last) is named as such.
    /// </summary>
    private float[]? SharedOutput(OnnxGraph shared, float[] latents, float[] actions, int window, int p)
    {
        var spec = manifest.Spec;
        var context = manifest.SharedContext!;
        var dims = spec.LatentShape.Select(d => (long)d).ToArray();
        int l = spec.LatentSize, a = spec.ActionBlockSize, t = window - p;
        var tailLatents = new float[2 * t * l];
        var tailActions = new float[2 * t * a];
        for (int b = 0; b < 2; b++)
        {
            Array.Copy(latents, (b * window + p) * l, tailLatents, b * t * l, t * l);
            Array.Copy(actions, (b * window + p) * a, tailActions, b * t * a, t * a);
        }
        try
        {
            var (shape, data) = shared.RunOnce([
                (context.ContextLatents, latents[..(p * l)], [1, p, .. dims]), (context.ContextActions, actions[..(p * a)], [1, p, a]),
                (manifest.LatentsInput, tailLatents, [2, t, .. dims]), (manifest.ActionsInput, tailActions, [2, t, a])], manifest.PredictorOutput);
            long[] expected = [2, 1, .. dims];
            if (!shape.SequenceEqual(expected))
            {
                problems.Add($"{shared.ModelPath}: with {p} shared and {t} own positions output '{manifest.PredictorOutput}' has shape " +
                    $"[{string.Join(", ", shape)}], expected [{string.Join(", ", expected)}] (the window's last position only)" +
                    (t > 1 && shape.Length > 1 && shape[1] == t ? "; this graph gives every position, as shared-context graphs exported before " +
                        "2026-12-07 did: export it again (models/README.md, \"Shared context\") or remove predictor.shared_context from model.json" : ""));
                return null;
            }
            int bad = data.Count(v => !float.IsFinite(v));
            if (bad > 0)
            {
                problems.Add($"{shared.ModelPath}: dry run output '{manifest.PredictorOutput}' with {p} shared positions is not finite: {bad} of {data.Length} values are NaN or infinite");
                return null;
            }
            return data;
        }
        catch (OrtException e)
        {
            problems.Add($"{shared.ModelPath}: dry run with {p} shared and {t} own positions failed ({e.Code}): {OnnxGraph.Brief(e.NativeMessage)}" +
                (p == 0 ? "; the graph does not take an empty context, as shared-context graphs exported before 2026-12-07 did not: export it " +
                    "again (models/README.md, \"Shared context\") or remove predictor.shared_context from model.json" : ""));
            return null;
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
