using System.Text.Json;
using System.Text.Json.Serialization;
using RobotCtl.Core.WorldModel;

namespace RobotCtl.Inference.WorldModel;

/// <summary>A graph's inputs and outputs as ONNX Runtime reports them.</summary>
public sealed record GraphSignature(string File, IReadOnlyList<TensorMetadata> Inputs, IReadOnlyList<TensorMetadata> Outputs);

/// <summary>What `robotctl model check` reports: whether the model is usable, what it is, how fast its dry runs were.</summary>
public sealed record ModelCheckReport
{
    public required string Directory { get; init; }
    public bool Usable => Problems.Count == 0;
    public required IReadOnlyList<string> Problems { get; init; }
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>The ONNX Runtime library used (null when it could not be loaded).</summary>
    public OrtLibraryInfo? Library { get; init; }
    public ExecutionProvider? Provider { get; init; }

    /// <summary>The manifest's contents, when model.json itself is valid.</summary>
    public WorldModelSpec? Spec { get; init; }
    public ModelFlops? Flops { get; init; }
    public GraphSignature? Encoder { get; init; }
    public GraphSignature? Predictor { get; init; }
    public DryRunTimings? Timings { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}

/// <summary>Loads a model directory with every contract check and reports, instead of throwing, what it found.</summary>
public static class ModelCheck
{
    /// <summary>
    /// The window length of the predictor's dry run: the model's history, at most 3 frames. Three show that T is dynamic
    /// and that the causal mask and position table are sliced by it; a V-JEPA 2-AC predictor's full 32-frame window
    /// would cost ~12 TFLOP and ~10 GB of attention buffers on every load.
    /// </summary>
    public static int DryRunWindow(int history) => Math.Min(history, 3);

    public static ModelCheckReport Run(string directory, InferenceOptions? options = null)
    {
        options ??= InferenceOptions.Default;
        var diagnostics = new OnnxWorldModel.LoadDiagnostics();
        var warnings = new List<string>();
        OnnxWorldModel? model = null;
        try
        {
            model = OnnxWorldModel.TryLoad(directory, options, warnings.Add, diagnostics);
        }
        catch (InferenceSetupException e)
        {
            diagnostics.Problems.Add(e.Message);
        }
        var manifest = diagnostics.Manifest;
        using (model)
        {
            return new ModelCheckReport
            {
                Directory = directory,
                Problems = diagnostics.Problems,
                Warnings = warnings,
                Library = OnnxRuntime.Loaded,
                Provider = model?.Provider,
                Spec = manifest?.Spec,
                Flops = manifest?.Flops,
                Encoder = diagnostics.Encoder,
                Predictor = diagnostics.Predictor,
                Timings = model?.Timings,
            };
        }
    }
}
