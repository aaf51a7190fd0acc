using System.Numerics.Tensors;
using RobotCtl.Core.WorldModel;
using RobotCtl.Planning.Solvers;

namespace RobotCtl.Planning.Rollout;

/// <summary>
/// Scores candidate action sequences by rolling the world model out from the observed context: one predictor call
/// per horizon step for all candidates at once, predictions fed back, the window growing to History frames and
/// then sliding (observed context frames first). States, when the model takes them, are integrated from the
/// de-normalised actions. The cost is the weighted latent distance of each step's prediction to the goal.
/// When the model has a shared-context predictor, a window's leading positions that every candidate shares (observed
/// frames with their executed actions) are given to it once instead of once per candidate.
/// Predictor buffers are created once per window shape and reused; Evaluate allocates nothing.
/// </summary>
internal sealed class WorldModelRolloutCost : ITrajectoryCost, IDisposable
{
    private readonly IWorldModel _model;
    private readonly ActionCodec _codec;
    private readonly Func<long> _clock;
    private readonly RolloutBatch _population, _single;
    private readonly int _samples, _horizon, _latent, _stateDim, _history;
    private readonly bool _shareContext;
    private readonly LatentCost _cost;
    private readonly float[] _weights;
    private readonly float[] _goal, _diff;
    private readonly float[] _contextLatents, _pastActions, _contextStates; // [History, L], [History-1, A], [History, S]
    private readonly float[] _singleCandidate;                                // [H, A], normalised
    private readonly float[] _physical;                                       // one block, physical
    private int _contextFrames;
    private bool _hasGoal;

    public WorldModelRolloutCost(IWorldModel model, ActionCodec codec, int samples, int horizon, LatentCost cost,
        float[]? stepWeights, Func<long> clock, bool shareContext = true)
    {
        _model = model; _codec = codec; _samples = samples; _horizon = horizon; _cost = cost; _clock = clock;
        var spec = model.Spec;
        _latent = spec.LatentSize;
        _stateDim = spec.StateDim;
        _history = spec.History;
        _shareContext = shareContext && model.HasSharedContext;
        if (_latent <= 0) throw new ArgumentException($"model '{spec.Name}': latent shape [{string.Join(", ", spec.LatentShape)}] has no elements");
        if (_history < 1) throw new ArgumentException($"model '{spec.Name}': predictor history must be >= 1, found {_history}");
        if (_stateDim > 0 && (spec.StateIntegration != EePoseIntegrator.Name || _stateDim != EePoseIntegrator.Dim || codec.Dim != EePoseIntegrator.Dim))
            throw new ArgumentException($"model '{spec.Name}': state integration \"{spec.StateIntegration}\" with state dim {_stateDim} and action dim {codec.Dim} is not supported; expected \"{EePoseIntegrator.Name}\" with 7 and 7");
        _weights = stepWeights ?? Enumerable.Range(0, horizon).Select(k => k == horizon - 1 ? 1f : 0f).ToArray();
        _population = new RolloutBatch(samples, horizon, _latent, _stateDim, _history);
        _single = new RolloutBatch(1, horizon, _latent, _stateDim, _history);
        _singleCandidate = new float[horizon * codec.BlockSize];
        _goal = new float[_latent];
        _diff = new float[_latent];
        _contextLatents = new float[_history * _latent];
        _pastActions = new float[Math.Max(0, _history - 1) * codec.BlockSize];
        _contextStates = new float[_history * _stateDim];
        _physical = new float[codec.BlockSize];
    }

    public long PredictorTicks { get; private set; }
    public int PredictorCalls { get; private set; }

    public void ResetCounters() { PredictorTicks = 0; PredictorCalls = 0; }

    public void SetGoal(ReadOnlySpan<float> goal)
    {
        if (goal.Length != _latent) throw new ArgumentException($"goal latent: expected {_latent} values, found {goal.Length}");
        RequireFinite(goal, "goal latent");
        goal.CopyTo(_goal);
        _hasGoal = true;
    }

    /// <summary>Binds the observed context: latents [F, L] oldest first, the F-1 executed action blocks between them
    /// (physical, or already normalised when <paramref name="actionsNormalised"/>), and F states when the model takes states.</summary>
    public void SetContext(ReadOnlySpan<float> latents, ReadOnlySpan<float> pastActions, ReadOnlySpan<float> states, bool actionsNormalised = false)
    {
        if (!_hasGoal) throw new InvalidOperationException("no goal: call SetGoal with the goal image's latent before planning");
        if (latents.Length == 0 || latents.Length % _latent != 0 || latents.Length / _latent > _history)
            throw new ArgumentException($"context latents: expected 1..{_history} frames of {_latent} values, found {latents.Length} values");
        var f = latents.Length / _latent;
        if (pastActions.Length != (f - 1) * _codec.BlockSize)
            throw new ArgumentException($"past actions: expected {f - 1} blocks of {_codec.BlockSize} values (one per gap between {f} context frames), found {pastActions.Length} values");
        if (states.Length != f * _stateDim)
            throw new ArgumentException(_stateDim == 0
                ? $"states: the model takes no state input, found {states.Length} values"
                : $"states: expected {f} states of {_stateDim} values (one per context frame), found {states.Length} values");
        RequireFinite(latents, "context latents");
        RequireFinite(pastActions, "past actions");
        RequireFinite(states, "states");
        _contextFrames = f;
        latents.CopyTo(_contextLatents);
        if (actionsNormalised) pastActions.CopyTo(_pastActions);
        else _codec.Normalise(pastActions, _pastActions);
        states.CopyTo(_contextStates);
    }

    /// <summary>Each candidate's predictions from the last <see cref="Evaluate"/>: [samples, horizon, latent].</summary>
    public ReadOnlySpan<float> Predictions => _population.Predicted;

    /// <summary>Whether rollouts give the shared leading positions of a window once (the model's shared-context graph).</summary>
    public bool SharesContext => _shareContext;

    /// <summary>Creates the predictor buffers for every window shape up front (warm-up).</summary>
    public void CreateAllBuffers()
    {
        for (var window = 1; window <= _history; window++)
            for (var shared = 0; shared < (_shareContext ? window : 1); shared++)
                Buffers(_population, window - shared, shared);
    }

    public void Evaluate(ReadOnlySpan<float> candidates, Span<float> costs)
    {
        var a = _codec.BlockSize;
        if (candidates.Length != _samples * _horizon * a || costs.Length != _samples)
            throw new ArgumentException($"candidates: expected {_samples} x {_horizon * a}, found {candidates.Length} values for {costs.Length} costs");
        if (_contextFrames == 0) throw new InvalidOperationException("no context: SetContext before Evaluate");
        costs.Clear();
        for (var k = 0; k < _horizon; k++)
        {
            Step(_population, candidates, k);
            if (_weights[k] != 0) AddDistances(costs, k, _weights[k]);
        }
        for (var b = 0; b < costs.Length; b++)
            if (!float.IsFinite(costs[b])) costs[b] = float.PositiveInfinity;
    }

    /// <summary>
    /// The latent predicted after the first <paramref name="blocks"/> blocks of a physical action chunk
    /// [horizon, block*dim], executed from the single frame <paramref name="latent"/> with the current state of the
    /// last context (state models). False when there was no context yet or the prediction is not finite.
    /// Replaces the context; allocates only the batch-1 predictor buffers, once.
    /// </summary>
    public bool TryPredict(ReadOnlySpan<float> latent, ReadOnlySpan<float> physicalChunk, int blocks, Span<float> predicted)
    {
        var a = _codec.BlockSize;
        if (latent.Length != _latent || predicted.Length != _latent)
            throw new ArgumentException($"latent and prediction: expected {_latent} values each, found {latent.Length} and {predicted.Length}");
        if (physicalChunk.Length != _horizon * a)
            throw new ArgumentException($"chunk: expected {_horizon} blocks of {a} values, found {physicalChunk.Length} values");
        if (blocks < 1 || blocks > _horizon) throw new ArgumentOutOfRangeException(nameof(blocks), blocks, $"expected 1..{_horizon} executed blocks");
        if (_contextFrames == 0) return false;
        _contextStates.AsSpan((_contextFrames - 1) * _stateDim, _stateDim).CopyTo(_contextStates);
        latent.CopyTo(_contextLatents);
        _contextFrames = 1;
        _codec.Normalise(physicalChunk, _singleCandidate);
        for (var k = 0; k < blocks; k++) Step(_single, _singleCandidate, k);
        var result = _single.Predicted.AsSpan((blocks - 1) * _latent, _latent);
        result.CopyTo(predicted);
        foreach (var v in result)
            if (!float.IsFinite(v)) return false;
        return true;
    }

    /// <summary>Rollout step k for every candidate of the batch: one predictor call over the window ending at frame f+k-1.</summary>
    private void Step(RolloutBatch batch, ReadOnlySpan<float> candidates, int k)
    {
        var frames = _contextFrames + k; // frames known; this step predicts frame `frames`
        var t = Math.Min(frames, _history);
        var start = frames - t;
        // Window positions before the last observed frame hold an observed frame and its executed action: the same
        // for every candidate (the last observed frame already takes the candidate's first block).
        var shared = _shareContext ? Math.Max(0, _contextFrames - 1 - start) : 0;
        var own = t - shared;
        var buffers = Buffers(batch, own, shared);
        FillWindow(batch, buffers, candidates, start, shared, own);

        var t0 = _clock();
        _model.Predict(buffers);
        PredictorTicks += _clock() - t0;
        PredictorCalls++;

        var next = buffers.NextLatents;
        for (var b = 0; b < batch.Size; b++)
            next.Slice(((b * own) + own - 1) * _latent, _latent).CopyTo(batch.Predicted.AsSpan((b * _horizon + k) * _latent, _latent));
        if (_stateDim > 0) IntegrateStates(batch, candidates, k);
    }

    /// <summary>The window from frame <paramref name="start"/>: its first <paramref name="shared"/> positions once (observed
    /// frames and executed actions), then <paramref name="own"/> positions per candidate.</summary>
    private void FillWindow(RolloutBatch batch, PredictorBuffers buffers, ReadOnlySpan<float> candidates, int start, int shared, int own)
    {
        var a = _codec.BlockSize;
        var f = _contextFrames;
        for (var p = 0; p < shared; p++)
        {
            _contextLatents.AsSpan((start + p) * _latent, _latent).CopyTo(buffers.ContextLatents.Slice(p * _latent, _latent));
            _pastActions.AsSpan((start + p) * a, a).CopyTo(buffers.ContextActions.Slice(p * a, a));
        }
        var latents = buffers.Latents;
        var actions = buffers.Actions;
        var states = buffers.States;
        for (var b = 0; b < batch.Size; b++)
        {
            var candidate = candidates.Slice(b * _horizon * a, _horizon * a);
            for (var p = 0; p < own; p++)
            {
                var j = start + shared + p; // frame index: 0..f-1 observed, f.. predicted
                var row = b * own + p;
                var latent = j < f ? _contextLatents.AsSpan(j * _latent, _latent) : batch.Predicted.AsSpan((b * _horizon + j - f) * _latent, _latent);
                latent.CopyTo(latents.Slice(row * _latent, _latent));
                // The action taken at frame j: executed for j < f-1, the candidate's block j-(f-1) after.
                var action = j < f - 1 ? _pastActions.AsSpan(j * a, a) : candidate.Slice((j - f + 1) * a, a);
                action.CopyTo(actions.Slice(row * a, a));
                if (_stateDim > 0)
                {
                    var state = j < f ? _contextStates.AsSpan(j * _stateDim, _stateDim) : batch.PredictedStates.AsSpan((b * _horizon + j - f) * _stateDim, _stateDim);
                    state.CopyTo(states.Slice(row * _stateDim, _stateDim));
                }
            }
        }
    }

    /// <summary>
    /// State of predicted frame f+k: the previous frame's state moved by candidate block k, action by action. The state
    /// moves by exactly the actions the predictor is given, de-normalised (V-JEPA 2-AC's compute_new_pose takes the
    /// same action tensor as its predictor): a solver's samples already lie in the search box, and the candidates
    /// `model score` is given are not clipped, so their held or out-of-bounds values must move the state as they move
    /// the predictor.
    /// </summary>
    private void IntegrateStates(RolloutBatch batch, ReadOnlySpan<float> candidates, int k)
    {
        var a = _codec.BlockSize;
        var s = _stateDim;
        for (var b = 0; b < batch.Size; b++)
        {
            var previous = k == 0
                ? _contextStates.AsSpan((_contextFrames - 1) * s, s)
                : batch.PredictedStates.AsSpan((b * _horizon + k - 1) * s, s);
            var state = batch.PredictedStates.AsSpan((b * _horizon + k) * s, s);
            previous.CopyTo(state);
            _codec.ToPhysical(candidates.Slice((b * _horizon + k) * a, a), _physical);
            for (var i = 0; i < _codec.Block; i++) EePoseIntegrator.Step(state, _physical.AsSpan(i * _codec.Dim, _codec.Dim));
        }
    }

    private void AddDistances(Span<float> costs, int k, float weight)
    {
        for (var b = 0; b < _samples; b++)
        {
            TensorPrimitives.Subtract(_population.Predicted.AsSpan((b * _horizon + k) * _latent, _latent), _goal, _diff);
            var d = _cost == LatentCost.Mse
                ? TensorPrimitives.SumOfSquares(_diff)
                : TensorPrimitives.SumOfMagnitudes(_diff) / _latent;
            costs[b] += weight * d;
        }
    }

    private PredictorBuffers Buffers(RolloutBatch batch, int own, int shared)
    {
        ref var slot = ref batch.Buffers[(own + shared - 1) * _history + shared];
        if (slot is not null) return slot;
        var buffers = _model.CreatePredictorBuffers(batch.Size, own, shared);
        if (buffers.Batch != batch.Size || buffers.Time != own || buffers.SharedPositions != shared || buffers.LatentSize != _latent
            || buffers.ActionBlockSize != _codec.BlockSize || buffers.StateDim != _stateDim)
        {
            buffers.Dispose();
            throw new WorldModelException($"model '{_model.Spec.Name}': predictor buffers for batch {batch.Size}, T {own}, {shared} shared came back shaped batch {buffers.Batch}, T {buffers.Time}, {buffers.SharedPositions} shared, latent {buffers.LatentSize}, action {buffers.ActionBlockSize}, state {buffers.StateDim}");
        }
        return slot = buffers;
    }

    private static void RequireFinite(ReadOnlySpan<float> values, string what)
    {
        for (var i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) throw new ArgumentException($"{what}: value {i} is {values[i]}, expected a finite number");
    }

    public void Dispose()
    {
        _population.Dispose();
        _single.Dispose();
    }

    /// <summary>Predictions, states and predictor buffers (one per window length and shared count) for a batch of rollouts.</summary>
    private sealed class RolloutBatch(int size, int horizon, int latent, int stateDim, int history) : IDisposable
    {
        public int Size { get; } = size;
        public float[] Predicted { get; } = new float[size * horizon * latent];        // [size, H, L]
        public float[] PredictedStates { get; } = new float[size * horizon * stateDim]; // [size, H, S]
        public PredictorBuffers?[] Buffers { get; } = new PredictorBuffers?[history * history]; // [window - 1, shared]

        public void Dispose()
        {
            for (var i = 0; i < Buffers.Length; i++) { Buffers[i]?.Dispose(); Buffers[i] = null; }
        }
    }
}
