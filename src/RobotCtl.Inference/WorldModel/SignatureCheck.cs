using System.Globalization;

namespace RobotCtl.Inference.WorldModel;

/// <summary>
/// Checks the graphs' inputs and outputs against model.json: names exist, float32, ranks, and every static dimension
/// (latent shape, block x dim, image size, state dim); batch (and time) must be dynamic.
/// </summary>
internal sealed class SignatureCheck(ModelManifest manifest, List<string> problems)
{
    private const long Dynamic = -1;

    /// <summary>An expected dimension: a value, or <see cref="Dynamic"/> for an axis that must be symbolic.</summary>
    private readonly record struct Dim(long Value, string Label);

    public void Encoder(OnnxGraph session)
    {
        var spec = manifest.Spec;
        var file = session.ModelPath;
        Tensor(session, file, input: true, manifest.EncoderInput, "encoder.input",
            [new(Dynamic, "batch"), new(3, "3 channels"), new(spec.Image.Height, "image.height"), new(spec.Image.Width, "image.width")]);
        Tensor(session, file, input: false, manifest.EncoderOutput, "encoder.output",
            [new(Dynamic, "batch"), .. Latent()]);
        Unnamed(session, file, [manifest.EncoderInput]);
    }

    public void Predictor(OnnxGraph session)
    {
        var spec = manifest.Spec;
        var file = session.ModelPath;
        Dim[] window = [new(Dynamic, "batch"), new(Dynamic, "time")];
        Tensor(session, file, input: true, manifest.LatentsInput, "predictor.latents", [.. window, .. Latent()]);
        Tensor(session, file, input: true, manifest.ActionsInput, "predictor.actions",
            [.. window, new(spec.ActionBlockSize, $"action.block {spec.ActionBlock} x action.dim {spec.ActionDim}")]);
        if (manifest.StatesInput is { } states)
            Tensor(session, file, input: true, states, "predictor.states", [.. window, new(spec.StateDim, "state.dim")]);
        Tensor(session, file, input: false, manifest.PredictorOutput, "predictor.output", [.. window, .. Latent()]);
        Unnamed(session, file, manifest.StatesInput is { } s ? [manifest.LatentsInput, manifest.ActionsInput, s]
            : [manifest.LatentsInput, manifest.ActionsInput]);
    }

    /// <summary>The shared-context graph: the context at batch 1 over its own positions, the rest as the predictor's.</summary>
    public void SharedContext(OnnxGraph session)
    {
        var spec = manifest.Spec;
        var context = manifest.SharedContext!;
        var file = session.ModelPath;
        Dim[] window = [new(Dynamic, "batch"), new(Dynamic, "time")];
        Dim[] shared = [new(1, "one context for the batch"), new(Dynamic, "context positions")];
        var block = new Dim(spec.ActionBlockSize, $"action.block {spec.ActionBlock} x action.dim {spec.ActionDim}");
        Tensor(session, file, input: true, context.ContextLatents, "predictor.shared_context.context_latents", [.. shared, .. Latent()]);
        Tensor(session, file, input: true, context.ContextActions, "predictor.shared_context.context_actions", [.. shared, block]);
        Tensor(session, file, input: true, manifest.LatentsInput, "predictor.latents", [.. window, .. Latent()]);
        Tensor(session, file, input: true, manifest.ActionsInput, "predictor.actions", [.. window, block]);
        Tensor(session, file, input: false, manifest.PredictorOutput, "predictor.output", [.. window, .. Latent()]);
        Unnamed(session, file, [context.ContextLatents, context.ContextActions, manifest.LatentsInput, manifest.ActionsInput]);
    }

    private IEnumerable<Dim> Latent() => manifest.Spec.LatentShape.Select((d, i) => new Dim(d, $"latent.shape[{i}]"));

    private void Tensor(OnnxGraph session, string file, bool input, string name, string field, Dim[] expected)
    {
        var kind = input ? "input" : "output";
        var all = input ? session.Inputs : session.Outputs;
        var found = all.FirstOrDefault(m => m.Name == name);
        if (found is null)
        {
            problems.Add($"{file}: has no {kind} '{name}' (named by {field} in model.json); its {kind}s are: " +
                string.Join(", ", all.Select(m => $"'{m.Name}'")));
            return;
        }
        var want = $"float32[{string.Join(", ", expected.Select(d => d.Value == Dynamic ? d.Label : d.Value.ToString(CultureInfo.InvariantCulture)))}]";
        if (!found.IsTensor || found.ElementType != TensorElementType.Float)
        {
            problems.Add($"{file}: {kind} '{name}' must be a float32 tensor ({field}), found {(found.IsTensor ? TensorMetadata.TypeName(found.ElementType) : "a non-tensor value")}");
            return;
        }
        if (found.Rank != expected.Length)
        {
            problems.Add($"{file}: {kind} '{name}' must have rank {expected.Length}: {want}, found rank {found.Rank}: float32[{found.FormatShape()}]");
            return;
        }
        for (int i = 0; i < expected.Length; i++)
        {
            var e = expected[i];
            var actual = found.Shape[i];
            if (e.Value == Dynamic && actual >= 0)
                problems.Add($"{file}: {kind} '{name}' dimension {i} ({e.Label}) must be dynamic, found fixed {actual}");
            else if (e.Value != Dynamic && actual >= 0 && actual != e.Value)
                problems.Add($"{file}: {kind} '{name}' dimension {i} must be {e.Value} ({e.Label} in model.json), found {actual}: expected {want}, found float32[{found.FormatShape()}]");
        }
    }

    /// <summary>A graph input that model.json does not name would have no value at run time.</summary>
    private void Unnamed(OnnxGraph session, string file, string[] named)
    {
        foreach (var input in session.Inputs.Where(i => !named.Contains(i.Name)))
            problems.Add($"{file}: input '{input.Name}' is not named in model.json (a world-model graph takes only " +
                $"the inputs model.json names: {string.Join(", ", named.Select(n => $"'{n}'"))})");
    }
}
