using System.Numerics.Tensors;
using RobotCtl.Core.WorldModel;
using RobotCtl.Planning.Solvers;

namespace RobotCtl.Planning.Rollout;

/// <summary>
/// Scores candidate action sequences by rolling the world model out from the observed context: one predictor call
/// per horizon step for all candidates at once, predictions fed back, the window growing to History frames and
/// then sliding (observed context frames first). States, when the model takes them, are integrated from the
/// de-normalised actions. The cost is the weighted latent distance of each step's prediction to the goal.
/// When the model has a shared-context predictor, every step runs it: a window's leading positions that every candidate
/// shares (observed frames with their executed actions) are given once instead of once per candidate, and only the
/// window's last position, the one the rollout reads, is predicted.
/// With more than one rollout thread the candidates are split into that many shards, each predicted on its own thread
/// with its own buffers (the model must allow concurrent calls with distinct buffers, as the ONNX one does).
/// Predictor buffers are created once per window shape and shard and reused; Evaluate allocates nothing.
/// </summary>
internal sealed class WorldModelRolloutCost : ITrajectoryCost, IDisposable
{
    private readonly IWorldModel _model;
    private readonly ActionCodec _codec;
    private readonly Func<long> _clock;
    private readonly RolloutBatch _population, _single;
    private readonly ShardWorkers? _workers;
    private readonly Action<int> _stepShard;   // made once: a step's shards run without a new delegate
    private RolloutBatch? _stepBatch;
    private int _stepK;
    private readonly int _samples, _horizon, _latent, _stateDim, _history;
    private readonly bool _shareContext;
    private readonly LatentCost _cost;
    private readonly float[] _weights;
    private readonly float[] _goal, _diff;
    private readonly float[]? _dimScale; // per latent dimension: sqrt(weight) for mse, weight for l1; null = all 1
    private readonly float[] _contextLatents, _pastActions, _contextStates; // [History, L], [History-1, A], [History, S]
    private int _contextFrames;
    private bool _hasGoal;

    public WorldModelRolloutCost(IWorldModel model, ActionCodec codec, int samples, int horizon, LatentCost cost,
        float[]? stepWeights, Func<long> clock, bool shareContext = true, int threads = 1, float[]? latentWeights = null)
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
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "rollout threads must be >= 1");
        var shards = Math.Min(threads, samples);
        _population = new RolloutBatch(samples, horizon, _latent, _stateDim, _history, codec.BlockSize, shards);
        _single = new RolloutBatch(1, horizon, _latent, _stateDim, _history, codec.BlockSize, 1);
        _workers = shards > 1 ? new ShardWorkers(shards, "rollout") : null;
        _stepShard = shard => StepShard(_stepBatch!, _stepBatch!.Shards[shard], _stepK);
        _goal = new float[_latent];
        _diff = new float[_latent];
        if (latentWeights is not null)
        {
            if (latentWeights.Length != _latent) throw new ArgumentException($"latent weights: expected {_latent} values, found {latentWeights.Length}");
            // Scaling the difference before the sum keeps one SIMD pass: sum (sqrt(w) d)^2 = sum w d^2.
            _dimScale = cost == LatentCost.Mse ? latentWeights.Select(MathF.Sqrt).ToArray() : (float[])latentWeights.Clone();
        }
        _contextLatents = new float[_history * _latent];
        _pastActions = new float[Math.Max(0, _history - 1) * codec.BlockSize];
        _contextStates = new float[_history * _stateDim];
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
        foreach (var shard in _population.Shards)
            for (var window = 1; window <= _history; window++)
                for (var shared = 0; shared < (_shareContext ? window : 1); shared++)
                    Buffers(shard, window - shared, shared);
    }

    public void Evaluate(ReadOnlySpan<float> candidates, Span<float> costs)
    {
        var a = _codec.BlockSize;
        if (candidates.Length != _samples * _horizon * a || costs.Length != _samples)
            throw new ArgumentException($"candidates: expected {_samples} x {_horizon * a}, found {candidates.Length} values for {costs.Length} costs");
        if (_contextFrames == 0) throw new InvalidOperationException("no context: SetContext before Evaluate");
        costs.Clear();
        candidates.CopyTo(_population.Candidates); // an array: the shards' threads read it
        for (var k = 0; k < _horizon; k++)
        {
            Step(_population, k);
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
        _codec.Normalise(physicalChunk, _single.Candidates);
        for (var k = 0; k < blocks; k++) Step(_single, k);
        var result = _single.Predicted.AsSpan((blocks - 1) * _latent, _latent);
        result.CopyTo(predicted);
        foreach (var v in result)
            if (!float.IsFinite(v)) return false;
        return true;
    }

    /// <summary>Rollout step k for every candidate of the batch: one predictor call per shard over the window ending
    /// at frame f+k-1, the shards at once on their threads.</summary>
    private void Step(RolloutBatch batch, int k)
    {
        var shards = batch.Shards;
        if (shards.Length == 1 || _workers is null)
        {
            StepShard(batch, shards[0], k);
            PredictorTicks += shards[0].PredictTicks;
        }
        else
        {
            // Buffers are made here, on the planning thread, the first time (warm-up makes them all up front).
            var (_, shared, own) = Window(k);
            foreach (var shard in shards) Buffers(shard, own, shared);
            _stepBatch = batch;
            _stepK = k;
            _workers.Run(_stepShard);
            _stepBatch = null;
            long longest = 0;
            foreach (var shard in shards) longest = Math.Max(longest, shard.PredictTicks);
            PredictorTicks += longest;
        }
        PredictorCalls++;
    }

    /// <summary>Step k's window: its first frame, the leading positions every candidate shares, and the candidates' own.</summary>
    private (int Start, int Shared, int Own) Window(int k)
    {
        var frames = _contextFrames + k; // frames known; this step predicts frame `frames`
        var t = Math.Min(frames, _history);
        var start = frames - t;
        // Window positions before the last observed frame hold an observed frame and its executed action: the same
        // for every candidate (the last observed frame already takes the candidate's first block).
        var shared = _shareContext ? Math.Max(0, _contextFrames - 1 - start) : 0;
        return (start, shared, t - shared);
    }

    private void StepShard(RolloutBatch batch, Shard shard, int k)
    {
        var (start, shared, own) = Window(k);
        var buffers = Buffers(shard, own, shared);
        FillWindow(batch, shard, buffers, start, shared, own);

        var t0 = _clock();
        _model.Predict(buffers);
        shard.PredictTicks = _clock() - t0;

        var next = buffers.NextLatents;
        var outputs = buffers.OutputPositions;
        for (var b = 0; b < shard.Size; b++)
            next.Slice(((b * outputs) + outputs - 1) * _latent, _latent).CopyTo(batch.Predicted.AsSpan(((shard.Offset + b) * _horizon + k) * _latent, _latent));
        if (_stateDim > 0) IntegrateStates(batch, shard, k);
    }

    /// <summary>The window from frame <paramref name="start"/>: its first <paramref name="shared"/> positions once (observed
    /// frames and executed actions), then <paramref name="own"/> positions per candidate.</summary>
    private void FillWindow(RolloutBatch batch, Shard shard, PredictorBuffers buffers, int start, int shared, int own)
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
        for (var i = 0; i < shard.Size; i++)
        {
            var b = shard.Offset + i; // the candidate's index in the batch
            var candidate = batch.Candidates.AsSpan(b * _horizon * a, _horizon * a);
            for (var p = 0; p < own; p++)
            {
                var j = start + shared + p; // frame index: 0..f-1 observed, f.. predicted
                var row = i * own + p;
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
    private void IntegrateStates(RolloutBatch batch, Shard shard, int k)
    {
        var a = _codec.BlockSize;
        var s = _stateDim;
        var physical = shard.Physical;
        for (var b = shard.Offset; b < shard.Offset + shard.Size; b++)
        {
            var previous = k == 0
                ? _contextStates.AsSpan((_contextFrames - 1) * s, s)
                : batch.PredictedStates.AsSpan((b * _horizon + k - 1) * s, s);
            var state = batch.PredictedStates.AsSpan((b * _horizon + k) * s, s);
            previous.CopyTo(state);
            _codec.ToPhysical(batch.Candidates.AsSpan((b * _horizon + k) * a, a), physical);
            for (var i = 0; i < _codec.Block; i++) EePoseIntegrator.Step(state, physical.AsSpan(i * _codec.Dim, _codec.Dim));
        }
    }

    private void AddDistances(Span<float> costs, int k, float weight)
    {
        for (var b = 0; b < _samples; b++)
        {
            TensorPrimitives.Subtract(_population.Predicted.AsSpan((b * _horizon + k) * _latent, _latent), _goal, _diff);
            if (_dimScale is not null) TensorPrimitives.Multiply(_diff, _dimScale, _diff);
            var d = _cost == LatentCost.Mse
                ? TensorPrimitives.SumOfSquares(_diff)
                : TensorPrimitives.SumOfMagnitudes(_diff) / _latent;
            costs[b] += weight * d;
        }
    }

    private PredictorBuffers Buffers(Shard shard, int own, int shared)
    {
        ref var slot = ref shard.Buffers[(own + shared - 1) * _history + shared];
        if (slot is not null) return slot;
        var buffers = _shareContext ? _model.CreatePredictorBuffers(shard.Size, own, shared) : _model.CreatePredictorBuffers(shard.Size, own);
        var outputs = _shareContext ? 1 : own;
        if (buffers.Batch != shard.Size || buffers.Time != own || buffers.SharedPositions != shared || buffers.OutputPositions != outputs
            || buffers.LatentSize != _latent || buffers.ActionBlockSize != _codec.BlockSize || buffers.StateDim != _stateDim)
        {
            buffers.Dispose();
            throw new WorldModelException($"model '{_model.Spec.Name}': predictor buffers for batch {shard.Size}, T {own}, {shared} shared, {outputs} out came back shaped batch {buffers.Batch}, T {buffers.Time}, {buffers.SharedPositions} shared, {buffers.OutputPositions} out, latent {buffers.LatentSize}, action {buffers.ActionBlockSize}, state {buffers.StateDim}");
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
        _workers?.Dispose();
        _population.Dispose();
        _single.Dispose();
    }

    /// <summary>A batch of rollouts: its candidates, predictions and states, and its shards.</summary>
    private sealed class RolloutBatch : IDisposable
    {
        public RolloutBatch(int size, int horizon, int latent, int stateDim, int history, int blockSize, int shards)
        {
            Size = size;
            Candidates = new float[size * horizon * blockSize];
            Predicted = new float[size * horizon * latent];
            PredictedStates = new float[size * horizon * stateDim];
            Shards = new Shard[shards];
            for (var i = 0; i < shards; i++)
            {
                int from = i * size / shards, to = (i + 1) * size / shards;
                Shards[i] = new Shard(from, to - from, history, blockSize);
            }
        }

        public int Size { get; }
        public float[] Candidates { get; }      // [size, H, block*dim], normalised
        public float[] Predicted { get; }       // [size, H, L]
        public float[] PredictedStates { get; } // [size, H, S]
        public Shard[] Shards { get; }

        public void Dispose()
        {
            foreach (var shard in Shards) shard.Dispose();
        }
    }

    /// <summary>Candidates [Offset, Offset + Size) of a batch: their predictor buffers (one per window length and shared
    /// count), scratch, and the time its last predictor call took.</summary>
    private sealed class Shard(int offset, int size, int history, int blockSize) : IDisposable
    {
        public int Offset { get; } = offset;
        public int Size { get; } = size;
        public PredictorBuffers?[] Buffers { get; } = new PredictorBuffers?[history * history]; // [window - 1, shared]
        public float[] Physical { get; } = new float[blockSize];                                  // one block, physical
        public long PredictTicks { get; set; }

        public void Dispose()
        {
            for (var i = 0; i < Buffers.Length; i++) { Buffers[i]?.Dispose(); Buffers[i] = null; }
        }
    }
}
