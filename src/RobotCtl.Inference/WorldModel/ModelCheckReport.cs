using System.Text.Json;
using System.Text.Json.Serialization;
using RobotCtl.Core.WorldModel;

namespace RobotCtl.Inference.WorldModel;

/// <summary>
/// What `robotctl model check` reports: whether the model is usable, what it is, how fast its dry runs were, and how
/// close ONNX Runtime came to PyTorch's reference outputs.
/// </summary>
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

    /// <summary>The shared-context graph (predictor.shared_context), and its largest relative difference from the
    /// predictor over every split of every window, when it loaded.</summary>
    public GraphSignature? SharedContext { get; init; }
    public double? SharedContextError { get; init; }
    public DryRunTimings? Timings { get; init; }

    /// <summary>Each reference case against ONNX Runtime; null when none ran (no reference/ folder, not asked, or the model did not load).</summary>
    public IReadOnlyList<ReferenceResult>? References { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        // A NaN output makes a reference case's difference infinite; said as "Infinity" rather than failing the report.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}
