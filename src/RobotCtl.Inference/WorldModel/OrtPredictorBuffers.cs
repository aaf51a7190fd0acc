using RobotCtl.Core.WorldModel;

namespace RobotCtl.Inference.WorldModel;

/// <summary>
/// Predictor tensors in native memory, bound once to a predictor session through an IoBinding: a Predict call is one
/// RunWithBinding that reads these inputs and writes NextLatents in place, with no managed allocation. Buffers for the
/// shared-context graph (a shared count given, 0 or more) also bind its context tensors ([1, P, ...], P may be 0) and
/// get the window's last position only.
/// </summary>
internal sealed class OrtPredictorBuffers : PredictorBuffers
{
    private readonly OrtTensor _latents, _actions, _next;
    private readonly OrtTensor? _states, _contextLatents, _contextActions;

    public OrtPredictorBuffers(OnnxWorldModel owner, OnnxGraph graph, ModelManifest manifest, int batch, int time, int? shared = null)
        : base(batch, time, manifest.Spec.LatentSize, manifest.Spec.ActionBlockSize, manifest.Spec.StateDim, shared ?? 0,
            shared is null ? time : 1)
    {
        Owner = owner;
        Graph = graph;
        var latentDims = manifest.Spec.LatentShape.Select(d => (long)d).ToArray();
        _latents = OrtTensor.Create([batch, time, .. latentDims]);
        _actions = OrtTensor.Create(batch, time, ActionBlockSize);
        _next = OrtTensor.Create([batch, OutputPositions, .. latentDims]);
        Binding = graph.CreateBinding();
        Binding.BindInput(manifest.LatentsInput, _latents);
        Binding.BindInput(manifest.ActionsInput, _actions);
        if (manifest.StatesInput is { } states)
        {
            _states = OrtTensor.Create(batch, time, StateDim);
            Binding.BindInput(states, _states);
        }
        if (shared is { } p)
        {
            var context = manifest.SharedContext ?? throw new InvalidOperationException($"model '{manifest.Spec.Name}' has no shared-context graph");
            _contextLatents = OrtTensor.Create([1, p, .. latentDims]);
            _contextActions = OrtTensor.Create(1, p, ActionBlockSize);
            Binding.BindInput(context.ContextLatents, _contextLatents);
            Binding.BindInput(context.ContextActions, _contextActions);
        }
        Binding.BindOutput(manifest.PredictorOutput, _next);
    }

    public OnnxWorldModel Owner { get; }
    public OnnxGraph Graph { get; }
    public bool IsDisposed => Binding.IsDisposed;
    public OrtBinding Binding { get; }

    public override Span<float> Latents => _latents.Span;
    public override Span<float> Actions => _actions.Span;
    public override Span<float> States => _states is null ? Span<float>.Empty : _states.Span;
    public override Span<float> NextLatents => _next.Span;
    public override Span<float> ContextLatents => _contextLatents is null ? Span<float>.Empty : _contextLatents.Span;
    public override Span<float> ContextActions => _contextActions is null ? Span<float>.Empty : _contextActions.Span;

    public override void Dispose()
    {
        if (Binding.IsDisposed) return;
        Binding.Dispose();
        _latents.Dispose();
        _actions.Dispose();
        _states?.Dispose();
        _contextLatents?.Dispose();
        _contextActions?.Dispose();
        _next.Dispose();
        base.Dispose();
    }
}
