namespace RobotCtl.Core.WorldModel;

/// <summary>Plain managed buffers, for analytic models and tests.</summary>
public sealed class ArrayPredictorBuffers : PredictorBuffers
{
    private readonly float[] _latents, _actions, _states, _next;

    public ArrayPredictorBuffers(int batch, int time, int latentSize, int actionBlockSize, int stateDim)
        : base(batch, time, latentSize, actionBlockSize, stateDim)
    {
        _latents = new float[batch * time * latentSize];
        _actions = new float[batch * time * actionBlockSize];
        _states = new float[batch * time * stateDim];
        _next = new float[batch * time * latentSize];
    }

    public override Span<float> Latents => _latents;
    public override Span<float> Actions => _actions;
    public override Span<float> States => _states;
    public override Span<float> NextLatents => _next;
}
