using System.Diagnostics;
using RobotCtl.Core.WorldModel;
using Microsoft.ML.OnnxRuntime;
using OrtElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace RobotCtl.Inference.WorldModel;

/// <summary>
/// A JEPA world model exported to ONNX (the contract in models/README.md), run by ONNX Runtime. <see cref="Load"/>
/// refuses a model that fails any of the contract's checks. <see cref="Predict"/> with buffers from <see cref="CreatePredictorBuffers"/>
/// allocates nothing managed, and may run concurrently with distinct buffers. <see cref="Encode"/> allocates nothing
/// managed after the first call of each batch size.
/// </summary>
public sealed unsafe class OnnxWorldModel : IWorldModel
{
    /// <summary>Encoder bindings kept per batch size; more distinct sizes than this start the cache over.</summary>
    private const int MaxEncoderSlots = 4;

    private readonly OnnxGraph _encoder, _predictor;
    private readonly OnnxGraph? _shared;
    // Encode copies through tensors bound once per batch size: an ONNX Runtime value over the caller's span would be
    // a new managed OrtValue on every call. One lock: encodes are one image per control cycle, not a parallel load.
    private readonly Lock _encodeGate = new();
    private readonly Dictionary<int, EncoderSlot> _encoderSlots = [];
    private bool _disposed;
    private readonly string _encoderInput, _encoderOutput, _latentsInput, _actionsInput, _statesInput, _predictorOutput;
    private readonly long[] _latentShape;

    private OnnxWorldModel(ModelManifest manifest, OnnxGraph encoder, OnnxGraph predictor, OnnxGraph? shared, DryRunTimings timings,
        double? sharedContextError)
    {
        Manifest = manifest;
        _encoder = encoder;
        _predictor = predictor;
        _shared = shared;
        SharedContextError = sharedContextError;
        Timings = timings;
        _encoderInput = manifest.EncoderInput;
        _encoderOutput = manifest.EncoderOutput;
        _latentsInput = manifest.LatentsInput;
        _actionsInput = manifest.ActionsInput;
        _statesInput = manifest.StatesInput ?? "";
        _predictorOutput = manifest.PredictorOutput;
        _latentShape = manifest.Spec.LatentShape.Select(d => (long)d).ToArray();
    }

    public ModelManifest Manifest { get; }
    public WorldModelSpec Spec => Manifest.Spec;
    public OnnxGraph Encoder => _encoder;
    public OnnxGraph Predictor => _predictor;

    /// <summary>The shared-context graph (model.json predictor.shared_context), when the model has one and this precision runs it.</summary>
    public OnnxGraph? SharedContextPredictor => _shared;

    /// <summary>Largest relative difference the load accepts between the shared-context graph and the predictor (float32
    /// rounding of the same operations in another order is ~1e-6; a graph of other weights or positions is far off).</summary>
    public const double SharedContextTolerance = 1e-4;

    /// <summary>Largest relative difference between the shared-context graph and the predictor found by the load's check.</summary>
    public double? SharedContextError { get; }

    public bool HasSharedContext => _shared is not null;
    public ExecutionProvider Provider => _predictor.Provider;
    public OrtLibraryInfo Library => _predictor.Library;
    public DryRunTimings Timings { get; }

    /// <summary>
    /// Loads and checks the model directory: manifest, files, graph signatures against the manifest, and a one-sample
    /// dry run of both graphs.
    /// </summary>
    /// <exception cref="WorldModelException">the model is unusable; the message names each problem's file and field.</exception>
    /// <exception cref="InferenceSetupException">ONNX Runtime or the requested execution provider is unavailable.</exception>
    public static OnnxWorldModel Load(string directory, InferenceOptions? options = null, Action<string>? warn = null)
    {
        var diagnostics = new LoadDiagnostics();
        return TryLoad(directory, options ?? InferenceOptions.Default, warn, diagnostics)
            ?? throw new WorldModelException(string.Join("; ", diagnostics.Problems));
    }

    /// <summary>What a load found on the way, for reports: problems, and whatever was read before the first failure.</summary>
    internal sealed class LoadDiagnostics
    {
        public List<string> Problems { get; } = [];
        public ModelManifest? Manifest { get; set; }
        public GraphSignature? Encoder { get; set; }
        public GraphSignature? Predictor { get; set; }
        public GraphSignature? SharedContext { get; set; }
    }

    /// <summary>Load collecting problems (null when there are any).</summary>
    internal static OnnxWorldModel? TryLoad(string directory, InferenceOptions options, Action<string>? warn, LoadDiagnostics diagnostics)
    {
        var problems = diagnostics.Problems;
        // Both sessions meet the same provider situation: say it once.
        var said = new HashSet<string>();
        if (warn is { } sink) warn = w => { if (said.Add(w)) sink(w); };
        var manifest = diagnostics.Manifest = ModelManifest.TryLoad(directory, problems);
        if (manifest is null) return null;

        var encoderPath = Path.Combine(directory, manifest.EncoderFile);
        var predictorPath = Path.Combine(directory, manifest.PredictorFile);
        CheckReadable(encoderPath, "encoder.file", problems);
        CheckReadable(predictorPath, "predictor.file", problems);
        if (options.Precision == PredictorPrecision.Int8)
        {
            // The quantised predictor has the same inputs and outputs: every check below applies to it as it is.
            predictorPath = Int8PredictorPath(directory, manifest);
            if (!File.Exists(predictorPath))
                problems.Add($"{predictorPath}: not found; Inference:Precision=int8 runs the int8 predictor that `robotctl model quantize {directory}` makes");
        }
        // At int8 the shared-context graph is its int8 copy when `model quantize` made one; without it every position
        // runs through the int8 predictor.
        string? sharedPath = manifest.SharedContext is not { } sc ? null
            : options.Precision == PredictorPrecision.Fp32 ? Path.Combine(directory, sc.File)
            : Int8SharedContextPath(directory, manifest) is var int8Shared && File.Exists(int8Shared) ? int8Shared : null;
        if (sharedPath is not null) CheckReadable(sharedPath, "predictor.shared_context.file", problems);
        if (problems.Count > 0) return null;

        var clock = Stopwatch.StartNew();
        var encoder = OpenGraph(encoderPath, options, warn, problems);
        var encoderLoad = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var predictor = OpenGraph(predictorPath, options, warn, problems);
        var predictorLoad = clock.Elapsed.TotalMilliseconds;
        var shared = sharedPath is null ? null : OpenGraph(sharedPath, options, warn, problems);
        try
        {
            if (encoder is not null) diagnostics.Encoder = new GraphSignature(encoder.ModelPath, encoder.Inputs, encoder.Outputs);
            if (predictor is not null) diagnostics.Predictor = new GraphSignature(predictor.ModelPath, predictor.Inputs, predictor.Outputs);
            if (shared is not null) diagnostics.SharedContext = new GraphSignature(shared.ModelPath, shared.Inputs, shared.Outputs);
            if (encoder is null || predictor is null || (sharedPath is not null && shared is null)) return null;
            var signature = new SignatureCheck(manifest, problems);
            signature.Encoder(encoder);
            signature.Predictor(predictor);
            if (shared is not null) signature.SharedContext(shared);
            if (problems.Count > 0) return null;

            var dry = new DryRun(manifest, problems);
            var (encoderFirst, encoderWarm, latent) = dry.Encoder(encoder);
            if (latent is null) return null;
            var (predictorFirst, predictorWarm) = dry.Predictor(predictor, latent);
            // Int8 graphs quantise each call's activations over the whole tensor: the shared graph's context rows get
            // their own scale, so it agrees with the int8 predictor only to quantisation noise; its drift from fp32 is
            // what `model quantize` reports, and success is measured by eval.
            double? sharedError = null;
            if (shared is not null && options.Precision == PredictorPrecision.Fp32) sharedError = dry.SharedContext(shared, predictor);
            else if (shared is not null) dry.SharedContextRuns(shared);
            if (problems.Count > 0) return null;

            var model = new OnnxWorldModel(manifest, encoder, predictor, shared,
                new DryRunTimings(encoderLoad, predictorLoad, encoderFirst, encoderWarm, predictorFirst, predictorWarm), sharedError);
            encoder = predictor = shared = null;
            return model;
        }
        finally
        {
            encoder?.Dispose();
            predictor?.Dispose();
            shared?.Dispose();
        }
    }

    /// <summary>Where `model quantize` writes the int8 predictor: beside predictor.file, "X.onnx" as "X.int8.onnx".</summary>
    public static string Int8PredictorPath(string directory, ModelManifest manifest) =>
        Path.Combine(directory, Path.ChangeExtension(manifest.PredictorFile, ".int8.onnx"));

    /// <summary>Where `model quantize` writes the int8 shared-context graph, beside its fp32 one (null: the model has none).</summary>
    public static string? Int8SharedContextPath(string directory, ModelManifest manifest) =>
        manifest.SharedContext is { } sc ? Path.Combine(directory, Path.ChangeExtension(sc.File, ".int8.onnx")) : null;

    private static void CheckReadable(string path, string field, List<string> problems)
    {
        try
        {
            using var stream = File.OpenRead(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            problems.Add($"{path}: file not found (named by {field} in model.json)");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add($"{path}: cannot be read (named by {field} in model.json): {e.Message}");
        }
    }

    private static OnnxGraph? OpenGraph(string path, InferenceOptions options, Action<string>? warn, List<string> problems)
    {
        try
        {
            return OnnxGraph.Open(path, options, warn);
        }
        catch (OrtException e)
        {
            problems.Add($"{path}: ONNX Runtime cannot load this graph ({e.Code}): {OnnxGraph.Brief(e.NativeMessage)}");
            return null;
        }
    }

    /// <summary>
    /// Encodes [batch, 3, H, W] preprocessed pixels into [batch, LatentSize] latents: the pixels are copied into a
    /// tensor bound to the encoder for this batch size and the latents copied out (tens of microseconds at most next
    /// to the run; no managed allocation after the first call of a batch size).
    /// </summary>
    public void Encode(ReadOnlySpan<float> pixels, int batch, Span<float> latents)
    {
        var image = Spec.Image;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        long pixelCount = (long)batch * 3 * image.Height * image.Width;
        if (pixels.Length != pixelCount)
            throw new ArgumentException($"pixels must hold {batch} x 3 x {image.Height} x {image.Width} = {pixelCount} floats, found {pixels.Length}", nameof(pixels));
        if (latents.Length != (long)batch * Spec.LatentSize)
            throw new ArgumentException($"latents must hold {batch} x {Spec.LatentSize} floats, found {latents.Length}", nameof(latents));

        lock (_encodeGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var slot = EncoderSlotFor(batch);
            pixels.CopyTo(slot.Pixels.Span);
            _encoder.Run(slot.Binding);
            slot.Latents.Span.CopyTo(latents);
        }
    }

    private EncoderSlot EncoderSlotFor(int batch)
    {
        if (_encoderSlots.TryGetValue(batch, out var slot)) return slot;
        if (_encoderSlots.Count >= MaxEncoderSlots)
        {
            foreach (var s in _encoderSlots.Values) s.Dispose();
            _encoderSlots.Clear();
        }
        var image = Spec.Image;
        slot = new EncoderSlot(_encoder, _encoderInput, [batch, 3, image.Height, image.Width], _encoderOutput, [batch, .. _latentShape]);
        _encoderSlots[batch] = slot;
        return slot;
    }

    /// <summary>The encoder's input and output tensors for one batch size, bound once.</summary>
    private sealed class EncoderSlot : IDisposable
    {
        public EncoderSlot(OnnxGraph encoder, string input, long[] inShape, string output, long[] outShape)
        {
            Pixels = OrtTensor.Create(inShape);
            Latents = OrtTensor.Create(outShape);
            Binding = encoder.CreateBinding();
            Binding.BindInput(input, Pixels);
            Binding.BindOutput(output, Latents);
        }

        public OrtTensor Pixels { get; }
        public OrtTensor Latents { get; }
        public OrtBinding Binding { get; }

        public void Dispose()
        {
            Binding.Dispose();
            Pixels.Dispose();
            Latents.Dispose();
        }
    }

    /// <summary>Native buffers bound to the predictor for calls of <paramref name="batch"/> samples and window <paramref name="time"/>.</summary>
    public PredictorBuffers CreatePredictorBuffers(int batch, int time)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        if (time < 1 || time > Spec.History)
            throw new ArgumentOutOfRangeException(nameof(time), time, $"time must be between 1 and the model's history ({Spec.History})");
        return new OrtPredictorBuffers(this, _predictor, Manifest, batch, time);
    }

    /// <summary>Native buffers bound to the shared-context graph for windows of <paramref name="shared"/> positions
    /// given once (0 or more) and <paramref name="time"/> per sample; NextLatents is the window's last position.</summary>
    public PredictorBuffers CreatePredictorBuffers(int batch, int time, int shared)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        if (_shared is null)
            throw new NotSupportedException($"model '{Spec.Name}' has no shared-context predictor (model.json predictor.shared_context" +
                (Manifest.SharedContext is null ? " is not given)" : "; at int8 `robotctl model quantize` makes its int8 copy)"));
        if (shared < 0 || time < 1 || shared + time > Spec.History)
            throw new ArgumentOutOfRangeException(nameof(shared), shared,
                $"shared {shared} + time {time} positions: expected shared >= 0, time >= 1 and at most the model's history ({Spec.History}) in all");
        return new OrtPredictorBuffers(this, _shared, Manifest, batch, time, shared);
    }

    /// <summary>
    /// Runs the predictor on <paramref name="buffers"/>. Buffers from <see cref="CreatePredictorBuffers"/> run through
    /// their IoBinding; other <see cref="PredictorBuffers"/> (e.g. <see cref="ArrayPredictorBuffers"/>) are wrapped for
    /// the call without copying.
    /// </summary>
    public void Predict(PredictorBuffers buffers)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        if (buffers is OrtPredictorBuffers own && ReferenceEquals(own.Owner, this))
        {
            ObjectDisposedException.ThrowIf(own.IsDisposed, buffers);
            own.Graph.Run(own.Binding);
            return;
        }
        if (buffers.SharedPositions > 0 || buffers.OutputPositions != buffers.Time)
            throw new ArgumentException("buffers for the shared-context graph must come from this model's CreatePredictorBuffers", nameof(buffers));
        PredictOver(buffers);
    }

    private void PredictOver(PredictorBuffers buffers)
    {
        if (buffers.LatentSize != Spec.LatentSize || buffers.ActionBlockSize != Spec.ActionBlockSize || buffers.StateDim != Spec.StateDim)
            throw new ArgumentException(
                $"buffers are for latent {buffers.LatentSize}, action block {buffers.ActionBlockSize}, state {buffers.StateDim}; " +
                $"model {Spec.Name} needs {Spec.LatentSize}, {Spec.ActionBlockSize}, {Spec.StateDim}", nameof(buffers));
        if (buffers.Time > Spec.History)
            throw new ArgumentException($"buffers have window {buffers.Time}, more than the model's history ({Spec.History})", nameof(buffers));

        Span<long> latentShape = stackalloc long[2 + _latentShape.Length];
        latentShape[0] = buffers.Batch;
        latentShape[1] = buffers.Time;
        _latentShape.CopyTo(latentShape[2..]);
        Span<long> actionShape = [buffers.Batch, buffers.Time, buffers.ActionBlockSize];
        Span<long> stateShape = [buffers.Batch, buffers.Time, buffers.StateDim];
        var latents = buffers.Latents;
        var actions = buffers.Actions;
        var states = buffers.States;
        var next = buffers.NextLatents;
        bool withStates = _statesInput.Length > 0;
        // Values over the caller's spans for this call only (a few managed objects: this is not the hot path, which
        // is buffers from CreatePredictorBuffers).
        fixed (float* l = latents)
        fixed (float* a = actions)
        fixed (float* s = states)
        fixed (float* n = next)
        {
            using var latentValue = Over(l, latents.Length, latentShape);
            using var actionValue = Over(a, actions.Length, actionShape);
            using var stateValue = withStates ? Over(s, states.Length, stateShape) : null;
            using var nextValue = Over(n, next.Length, latentShape);
            string[] names = withStates ? [_latentsInput, _actionsInput, _statesInput] : [_latentsInput, _actionsInput];
            OrtValue[] values = withStates ? [latentValue, actionValue, stateValue!] : [latentValue, actionValue];
            _predictor.RunValues(names, values, _predictorOutput, nextValue);
        }
    }

    private static OrtValue Over(float* data, int length, ReadOnlySpan<long> shape) =>
        OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, OrtElementType.Float, shape.ToArray(), (nint)data, (long)length * sizeof(float));

    public void Dispose()
    {
        lock (_encodeGate)
        {
            _disposed = true;
            foreach (var slot in _encoderSlots.Values) slot.Dispose();
            _encoderSlots.Clear();
        }
        _encoder.Dispose();
        _predictor.Dispose();
        _shared?.Dispose();
    }
}
