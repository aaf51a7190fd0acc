using RobotCtl.Core.WorldModel;

namespace RobotCtl.Inference.WorldModel;

/// <summary>
/// Predictor tensors in native memory, bound once to the predictor session through an IoBinding: a Predict call is one
/// RunWithBinding that reads these inputs and writes NextLatents in place, with no managed allocation.
/// </summary>
internal sealed class OrtPredictorBuffers : PredictorBuffers
{
    private readonly OrtTensor _latents, _actions, _next;
    private readonly OrtTensor? _states;

    public OrtPredictorBuffers(OnnxWorldModel owner, OnnxGraph predictor, ModelManifest manifest, int batch, int time)
        : base(batch, time, manifest.Spec.LatentSize, manifest.Spec.ActionBlockSize, manifest.Spec.StateDim)
    {
        Owner = owner;
        var latentShape = new long[] { batch, time }.Concat(manifest.Spec.LatentShape.Select(d => (long)d)).ToArray();
        _latents = OrtTensor.Create(latentShape);
        _actions = OrtTensor.Create(batch, time, ActionBlockSize);
        _next = OrtTensor.Create(latentShape);
        Binding = predictor.CreateBinding();
        Binding.BindInput(manifest.LatentsInput, _latents);
        Binding.BindInput(manifest.ActionsInput, _actions);
        if (manifest.StatesInput is { } states)
        {
            _states = OrtTensor.Create(batch, time, StateDim);
            Binding.BindInput(states, _states);
        }
        Binding.BindOutput(manifest.PredictorOutput, _next);
    }

    public OnnxWorldModel Owner { get; }
    public bool IsDisposed => Binding.IsDisposed;
    public OrtBinding Binding { get; }

    public override Span<float> Latents => _latents.Span;
    public override Span<float> Actions => _actions.Span;
    public override Span<float> States => _states is null ? Span<float>.Empty : _states.Span;
    public override Span<float> NextLatents => _next.Span;

    public override void Dispose()
    {
        if (Binding.IsDisposed) return;
        Binding.Dispose();
        _latents.Dispose();
        _actions.Dispose();
        _states?.Dispose();
        _next.Dispose();
        base.Dispose();
    }
}
