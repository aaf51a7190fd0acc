using System.Globalization;
using System.Text.Json;
using RobotCtl.Core.Arm;
using RobotCtl.Core.WorldModel;

namespace RobotCtl.Inference.WorldModel;

/// <summary>
/// A validated model.json (see models/README.md, "The contract"): the runtime's <see cref="WorldModelSpec"/>
/// plus where the graphs are and what their tensors are called.
/// </summary>
public sealed record ModelManifest
{
    public required string Directory { get; init; }
    public required WorldModelSpec Spec { get; init; }
    public required string EncoderFile { get; init; }
    public required string EncoderInput { get; init; }
    public required string EncoderOutput { get; init; }
    public required string PredictorFile { get; init; }
    public required string LatentsInput { get; init; }
    public required string ActionsInput { get; init; }
    public string? StatesInput { get; init; }
    public required string PredictorOutput { get; init; }

    /// <summary>predictor.shared_context (optional, LeWM family): the graph that takes a window's shared leading
    /// positions once for the whole batch (models/README.md, "Shared context"); null when the model has none.</summary>
    public SharedContextGraph? SharedContext { get; init; }
    public ModelFlops? Flops { get; init; }

    public static readonly IReadOnlyList<string> Families = ["lewm", "vjepa2-ac", "dino-wm"];
    public static readonly IReadOnlyList<string> Solvers = ["cem", "mppi"];
    public static readonly IReadOnlyList<string> Costs = ["mse", "l1"];
    public static readonly IReadOnlyList<string> Executes = ["best", "mean"];
    public static readonly IReadOnlyList<string> StateIntegrations = ["ee-pose-euler-xyz"];

    /// <summary>Reads and checks <c>directory/model.json</c>.</summary>
    /// <exception cref="WorldModelException">every problem found, each naming the field, expected and found.</exception>
    public static ModelManifest Load(string directory)
    {
        var problems = new List<string>();
        return TryLoad(directory, problems) ?? throw new WorldModelException(string.Join("; ", problems));
    }

    /// <summary>Like <see cref="Load"/>, collecting problems instead of throwing; null when there are any.</summary>
    internal static ModelManifest? TryLoad(string directory, List<string> problems)
    {
        var file = Path.Combine(directory, "model.json");
        if (!System.IO.Directory.Exists(directory))
        {
            problems.Add($"{directory}: model directory not found");
            return null;
        }
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add(e is FileNotFoundException ? $"{file}: file not found (every model directory needs a model.json)"
                : $"{file}: cannot be read: {e.Message}");
            return null;
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            var line = e.LineNumber is { } l ? (l + 1).ToString(CultureInfo.InvariantCulture) : "?";
            var column = e.BytePositionInLine is { } c ? (c + 1).ToString(CultureInfo.InvariantCulture) : "?";
            problems.Add($"{file}: not valid JSON at line {line}, position {column}: {FirstSentence(e.Message)}");
            return null;
        }
        using (document)
        {
            var before = problems.Count;
            var manifest = new Reader(file, problems).Read(directory, document.RootElement);
            return problems.Count == before ? manifest : null;
        }
    }

    private static string FirstSentence(string message)
    {
        // System.Text.Json appends " LineNumber: x | BytePositionInLine: y." which we already report.
        int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        // The message may quote the offending text, newlines included: keep the report on one line.
        return (cut > 0 ? message[..cut] : message).TrimEnd().Replace("\r", "\\r").Replace("\n", "\\n");
    }

    /// <summary>Field-by-field reader: each problem names the field ("action.std[3]"), what was expected and found.</summary>
    private sealed class Reader(string file, List<string> problems)
    {
        private void Problem(string field, string expected, JsonElement? found) =>
            problems.Add($"{file}: {field} {expected}, found {Describe(found)}");

        private static string Describe(JsonElement? e) => e is not { } v ? "nothing (missing)"
            : v.ValueKind == JsonValueKind.String ? $"\"{v.GetString()}\""
            : v.GetRawText().Length > 40 ? v.GetRawText()[..40] + "..." : v.GetRawText();

        private static JsonElement? Get(JsonElement? parent, string key) =>
            parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(key, out var v) ? v : null;

        private JsonElement? Object(JsonElement? parent, string field, string key)
        {
            var v = Get(parent, key);
            if (v is { ValueKind: JsonValueKind.Object }) return v;
            Problem(field, "must be an object", v);
            return null;
        }

        /// <summary>
        /// A graph file named relative to the model directory and inside it: a model folder is what a user copies, checks
        /// and trusts, so "../../etc/passwd" or "/abs/path" is refused rather than opened (links inside it are the user's own).
        /// </summary>
        private string FileInModel(JsonElement? parent, string field)
        {
            var text = String(parent, field, "file");
            if (text.Length == 0) return text;
            var directory = Path.GetFullPath(Path.GetDirectoryName(Path.GetFullPath(file))!);
            var full = Path.GetFullPath(Path.Combine(directory, text));
            if (Path.IsPathRooted(text) || !full.StartsWith(directory + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                problems.Add($"{file}: {field} must name a file inside the model directory {directory}, found \"{text}\"");
                return "";
            }
            return text;
        }

        private string String(JsonElement? parent, string field, string key, IReadOnlyList<string>? allowed = null)
        {
            if (parent is null) return "";
            var v = Get(parent, key);
            var text = v is { ValueKind: JsonValueKind.String } s ? s.GetString() ?? "" : null;
            if (string.IsNullOrWhiteSpace(text))
            {
                Problem(field, "must be a non-empty string", v);
                return "";
            }
            if (allowed is not null && !allowed.Contains(text))
            {
                Problem(field, $"must be one of {string.Join(", ", allowed.Select(a => $"\"{a}\""))}", v);
                return "";
            }
            return text;
        }

        private string? NullableString(JsonElement? parent, string field, string key)
        {
            var v = Get(parent, key);
            if (v is null || v.Value.ValueKind == JsonValueKind.Null) return null;
            if (v.Value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(v.Value.GetString())) return v.Value.GetString();
            Problem(field, "must be null or a non-empty string", v);
            return null;
        }

        private int Int(JsonElement? parent, string field, string key, int min)
        {
            if (parent is null) return 0;
            var v = Get(parent, key);
            if (v is { ValueKind: JsonValueKind.Number } n && n.TryGetInt32(out var i) && i >= min) return i;
            Problem(field, min == 1 ? "must be a positive integer" : $"must be an integer >= {min}", v);
            return 0;
        }

        private float Positive(JsonElement? parent, string field, string key)
        {
            if (parent is null) return 0;
            var v = Get(parent, key);
            if (v is { ValueKind: JsonValueKind.Number } n && n.TryGetDouble(out var d) && d > 0 && double.IsFinite(d)) return (float)d;
            Problem(field, "must be a number > 0", v);
            return 0;
        }

        private float[] Numbers(JsonElement? parent, string field, string key, int length, bool positive)
        {
            if (parent is null) return [];
            var v = Get(parent, key);
            if (v is not { ValueKind: JsonValueKind.Array } array || array.GetArrayLength() != length)
            {
                Problem(field, $"must be an array of {length} numbers", v);
                return [];
            }
            var result = new float[length];
            int i = 0;
            foreach (var item in array.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Number || !item.TryGetDouble(out var d) || !double.IsFinite(d))
                    Problem($"{field}[{i}]", "must be a finite number", item);
                else if (positive && d <= 0)
                    Problem($"{field}[{i}]", "must be > 0", item);
                else
                    result[i] = (float)d;
                i++;
            }
            return result;
        }

        public ModelManifest? Read(string directory, JsonElement root)
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"{file}: must hold a JSON object, found {root.ValueKind}");
                return null;
            }
            var format = Get(root, "format");
            if (format is not { ValueKind: JsonValueKind.Number } f || !f.TryGetInt32(out var fv) || fv != 1)
                Problem("format", "must be 1 (the only model format this robotctl reads)", format);
            var name = String(root, "name", "name");
            var family = String(root, "family", "family", Families);

            var image = Object(root, "image", "image");
            int width = Int(image, "image.width", "width", 1), height = Int(image, "image.height", "height", 1);
            float scale = Positive(image, "image.scale", "scale");
            var mean = Numbers(image, "image.mean", "mean", 3, positive: false);
            var std = Numbers(image, "image.std", "std", 3, positive: true);

            var encoder = Object(root, "encoder", "encoder");
            var encoderFile = FileInModel(encoder, "encoder.file");
            var encoderInput = String(encoder, "encoder.input", "input");
            var encoderOutput = String(encoder, "encoder.output", "output");

            var predictor = Object(root, "predictor", "predictor");
            var predictorFile = FileInModel(predictor, "predictor.file");
            var latents = String(predictor, "predictor.latents", "latents");
            var actions = String(predictor, "predictor.actions", "actions");
            var states = NullableString(predictor, "predictor.states", "states");
            var output = String(predictor, "predictor.output", "output");
            int history = Int(predictor, "predictor.history", "history", 1);
            var shared = SharedContext(predictor, states);

            var latent = Object(root, "latent", "latent");
            var latentShape = LatentShape(latent);

            var action = Object(root, "action", "action");
            int dim = Int(action, "action.dim", "dim", 1), block = Int(action, "action.block", "block", 1);
            // The per-dimension arrays are checked against dim only once dim itself is valid.
            var perDimension = dim > 0 ? action : null;
            var actionMean = Numbers(perDimension, "action.mean", "mean", dim, positive: false);
            var actionStd = Numbers(perDimension, "action.std", "std", dim, positive: true);
            var search = Booleans(perDimension, "action.search", "search", dim);
            var checkpointDims = CheckpointDims(action, dim);

            int stateDim = 0;
            string? integrate = null;
            var state = Get(root, "state");
            if (state is { ValueKind: JsonValueKind.Object })
            {
                stateDim = Int(state, "state.dim", "dim", 1);
                integrate = String(state, "state.integrate", "integrate", StateIntegrations);
            }
            else if (state is { ValueKind: not JsonValueKind.Null })
                Problem("state", "must be null or an object { dim, integrate }", state);
            if (states is not null && stateDim == 0 && state is not { ValueKind: JsonValueKind.Object })
                Problem("state", $"must be given because predictor.states names an input (\"{states}\")", state);
            if (states is null && state is { ValueKind: JsonValueKind.Object })
                Problem("predictor.states", "must name the predictor's state input because \"state\" is given", Get(predictor, "states"));

            var planner = Object(root, "planner", "planner");
            var defaults = new PlannerDefaults(
                Solver: String(planner, "planner.solver", "solver", Solvers),
                Cost: String(planner, "planner.cost", "cost", Costs),
                Samples: Int(planner, "planner.samples", "samples", 1),
                TopK: Int(planner, "planner.topk", "topk", 1),
                Iterations: Int(planner, "planner.iterations", "iterations", 1),
                Horizon: Int(planner, "planner.horizon", "horizon", 1),
                Receding: Int(planner, "planner.receding", "receding", 1),
                InitStd: Positive(planner, "planner.init_std", "init_std"));
            defaults = defaults with
            {
                CostShape = CostShapeField(planner, defaults.Horizon),
                Execute = Get(planner, "execute") is null ? "best" : String(planner, "planner.execute", "execute", Executes),
                Elitism = OptionalBool(planner, "planner.elitism", "elitism", true),
                MeanMomentum = OptionalNumber(planner, "planner.mean_momentum", "mean_momentum", 0, 1, "a number in [0, 1)"),
                StdMomentum = OptionalNumber(planner, "planner.std_momentum", "std_momentum", 0, 1, "a number in [0, 1)"),
                GripperDeadband = OptionalNumber(planner, "planner.gripper_deadband", "gripper_deadband", 0, double.PositiveInfinity,
                    "a finite number >= 0"),
                InitStdPerDim = Get(planner, "init_std_per_dim") is { ValueKind: not JsonValueKind.Null }
                    ? Numbers(dim > 0 ? planner : null, "planner.init_std_per_dim", "init_std_per_dim", dim, positive: true)
                    : null,
                WarmStart = OptionalBool(planner, "planner.warm_start", "warm_start", true),
                MeanSample = OptionalBool(planner, "planner.mean_sample", "mean_sample", true),
                ContextFrames = Get(planner, "context_frames") is { ValueKind: not JsonValueKind.Null }
                    ? Int(planner, "planner.context_frames", "context_frames", 1)
                    : null,
                LatentWeights = LatentWeightsField(planner, latentShape),
            };
            if (defaults.ContextFrames > history && history > 0)
                problems.Add($"{file}: planner.context_frames must be <= predictor.history ({history}), found {defaults.ContextFrames}");
            if (defaults.TopK > 0 && defaults.Samples > 0 && defaults.TopK > defaults.Samples)
                problems.Add($"{file}: planner.topk must be <= planner.samples ({defaults.Samples}), found {defaults.TopK}");
            if (defaults.Receding > 0 && defaults.Horizon > 0 && defaults.Receding > defaults.Horizon)
                problems.Add($"{file}: planner.receding must be <= planner.horizon ({defaults.Horizon}), found {defaults.Receding}");

            var flops = Flops(Get(root, "flops"));

            return new ModelManifest
            {
                Directory = directory,
                Spec = new WorldModelSpec
                {
                    Name = name, Family = family,
                    Image = new ImageSpec(width, height, scale, mean, std),
                    LatentShape = latentShape, ActionDim = dim, ActionBlock = block,
                    ActionMean = actionMean, ActionStd = actionStd, ActionSearch = search, CheckpointActionDims = checkpointDims,
                    History = history, StateDim = stateDim, StateIntegration = integrate, Planner = defaults,
                },
                EncoderFile = encoderFile, EncoderInput = encoderInput, EncoderOutput = encoderOutput,
                PredictorFile = predictorFile, LatentsInput = latents, ActionsInput = actions, StatesInput = states,
                PredictorOutput = output, SharedContext = shared, Flops = flops,
            };
        }

        /// <summary>predictor.shared_context: absent or null, or {file, context_latents, context_actions} for a predictor
        /// without states (its candidates' inputs and output keep the predictor's names).</summary>
        private SharedContextGraph? SharedContext(JsonElement? predictor, string? states)
        {
            var v = Get(predictor, "shared_context");
            if (v is null || v.Value.ValueKind == JsonValueKind.Null) return null;
            var entry = Object(predictor, "predictor.shared_context", "shared_context");
            if (entry is null) return null;
            if (states is not null)
            {
                Problem("predictor.shared_context", "must be null for a predictor that takes states (the shared-context graph takes none)", v);
                return null;
            }
            return new SharedContextGraph(FileInModel(entry, "predictor.shared_context.file"),
                String(entry, "predictor.shared_context.context_latents", "context_latents"),
                String(entry, "predictor.shared_context.context_actions", "context_actions"));
        }

        /// <summary>
        /// action.checkpoint_dims (optional; written by `model import`): the names of the 7-D command's axes that an
        /// imported checkpoint's own action dimensions are, in its order, each at most once.
        /// </summary>
        private int[]? CheckpointDims(JsonElement? action, int dim)
        {
            var v = Get(action, "checkpoint_dims");
            if (v is null || v.Value.ValueKind == JsonValueKind.Null) return null;
            var names = EeCommand.AxisNames;
            var expected = $"must be null or an array of 1..{names.Count} distinct axis names ({string.Join(", ", names)})";
            if (dim != EeCommand.Dim)
            {
                Problem("action.checkpoint_dims", $"needs action.dim {EeCommand.Dim} (the end-effector command), found dim {dim}:", v);
                return null;
            }
            if (v.Value.ValueKind != JsonValueKind.Array || v.Value.GetArrayLength() is 0 or > EeCommand.Dim)
            {
                Problem("action.checkpoint_dims", expected, v);
                return null;
            }
            var result = new List<int>();
            foreach (var item in v.Value.EnumerateArray())
            {
                var index = item.ValueKind == JsonValueKind.String ? IndexOf(names, item.GetString()) : -1;
                if (index < 0 || result.Contains(index))
                {
                    Problem("action.checkpoint_dims", expected, v);
                    return null;
                }
                result.Add(index);
            }
            return [.. result];
        }

        private static int IndexOf(IReadOnlyList<string> names, string? name)
        {
            for (var i = 0; i < names.Count; i++) if (names[i] == name) return i;
            return -1;
        }

        /// <summary>An optional number in [min, max) (max infinite: any finite value >= min); absent or null gives 0.</summary>
        private float OptionalNumber(JsonElement? parent, string field, string key, double min, double max, string expected)
        {
            var v = Get(parent, key);
            if (v is null || v.Value.ValueKind == JsonValueKind.Null) return 0f;
            if (v.Value.ValueKind == JsonValueKind.Number && v.Value.TryGetDouble(out var d) && double.IsFinite(d)
                && d >= min && d < max && float.IsFinite((float)d))
                return (float)d;
            Problem(field, $"must be {expected} or absent", v);
            return 0f;
        }

        /// <summary>An optional boolean: absent or null gives <paramref name="absent"/>.</summary>
        private bool OptionalBool(JsonElement? parent, string field, string key, bool absent)
        {
            var v = Get(parent, key);
            if (v is null || v.Value.ValueKind == JsonValueKind.Null) return absent;
            if (v.Value.ValueKind is JsonValueKind.True or JsonValueKind.False) return v.Value.GetBoolean();
            Problem(field, "must be true, false or absent", v);
            return absent;
        }

        private int[] LatentShape(JsonElement? latent)
        {
            if (latent is null) return [];
            var v = Get(latent, "shape");
            if (v is not { ValueKind: JsonValueKind.Array } array || array.GetArrayLength() == 0)
            {
                Problem("latent.shape", "must be a non-empty array of positive integers", v);
                return [];
            }
            var shape = new int[array.GetArrayLength()];
            int i = 0;
            foreach (var item in array.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out var d) && d > 0) shape[i] = d;
                else Problem($"latent.shape[{i}]", "must be a positive integer", item);
                i++;
            }
            return shape;
        }

        /// <summary>
        /// planner.latent_weights (optional): 1..latent-size weights >= 0 for the latent's first dimensions (the rest
        /// weigh 1), at least one > 0.
        /// </summary>
        private float[]? LatentWeightsField(JsonElement? planner, int[] latentShape)
        {
            const string field = "planner.latent_weights";
            var v = Get(planner, "latent_weights");
            if (v is null || v.Value.ValueKind == JsonValueKind.Null) return null;
            var size = latentShape.Aggregate(1, (a, d) => a * d);
            if (v.Value.ValueKind != JsonValueKind.Array || v.Value.GetArrayLength() == 0 || (latentShape.Length > 0 && v.Value.GetArrayLength() > size))
            {
                Problem(field, $"must be an array of 1..{(latentShape.Length > 0 ? size : "latent-size")} weights >= 0 (the latent's first dimensions)", v);
                return null;
            }
            if (NonNegativeWeights(v.Value, field) is not { } weights) return null;
            if (weights.All(w => w == 0) && (latentShape.Length == 0 || weights.Length == size))
            {
                Problem(field, "must have at least one weight > 0", v);
                return null;
            }
            return weights;
        }

        /// <summary>The numbers of a JSON array, each finite and >= 0; null with the first bad one named.</summary>
        private float[]? NonNegativeWeights(JsonElement array, string field)
        {
            var weights = new float[array.GetArrayLength()];
            var i = 0;
            foreach (var item in array.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Number || !item.TryGetDouble(out var d) || !double.IsFinite(d) || d < 0 || !float.IsFinite((float)d))
                {
                    Problem($"{field}[{i}]", "must be a finite number >= 0", item);
                    return null;
                }
                weights[i++] = (float)d;
            }
            return weights;
        }

        /// <summary>
        /// planner.cost_shape (optional): "last" (absent or null too), "sum", or one weight >= 0 per horizon step.
        /// </summary>
        private CostShape? CostShapeField(JsonElement? planner, int horizon)
        {
            const string field = "planner.cost_shape";
            var v = Get(planner, "cost_shape");
            if (v is null || v.Value.ValueKind == JsonValueKind.Null) return null;
            if (v.Value.ValueKind == JsonValueKind.String)
            {
                var text = v.Value.GetString();
                if (text is "last") return CostShape.Last;
                if (text is "sum") return CostShape.Sum;
                Problem(field, "must be \"last\", \"sum\" or an array of one weight >= 0 per horizon step", v);
                return null;
            }
            if (v.Value.ValueKind != JsonValueKind.Array || (horizon > 0 && v.Value.GetArrayLength() != horizon))
            {
                Problem(field, horizon > 0 ? $"must be \"last\", \"sum\" or an array of {horizon} weights >= 0 (planner.horizon)"
                    : "must be \"last\", \"sum\" or an array of one weight >= 0 per horizon step", v);
                return null;
            }
            if (NonNegativeWeights(v.Value, field) is not { } weights) return null;
            if (weights.All(w => w == 0))
            {
                Problem(field, "must have at least one weight > 0", v);
                return null;
            }
            return CostShape.FromWeights(weights);
        }

        private bool[] Booleans(JsonElement? parent, string field, string key, int length)
        {
            if (parent is null) return [];
            var v = Get(parent, key);
            if (v is not { ValueKind: JsonValueKind.Array } array || array.GetArrayLength() != length)
            {
                Problem(field, $"must be an array of {length} booleans", v);
                return [];
            }
            var result = new bool[length];
            int i = 0;
            foreach (var item in array.EnumerateArray())
            {
                if (item.ValueKind is JsonValueKind.True or JsonValueKind.False) result[i] = item.GetBoolean();
                else Problem($"{field}[{i}]", "must be true or false", item);
                i++;
            }
            return result;
        }

        /// <summary>"flops" is informational (benchmarks): read it when well-formed, ignore it otherwise.</summary>
        private static ModelFlops? Flops(JsonElement? flops)
        {
            if (Get(flops, "encoder_per_image") is not { ValueKind: JsonValueKind.Number } encoder) return null;
            var perSample = new Dictionary<int, double>();
            if (Get(flops, "predictor_per_sample") is { ValueKind: JsonValueKind.Object } steps)
                foreach (var p in steps.EnumerateObject())
                    if (int.TryParse(p.Name, CultureInfo.InvariantCulture, out var t) && p.Value.ValueKind == JsonValueKind.Number)
                        perSample[t] = p.Value.GetDouble();
            var shared = new Dictionary<string, double>();
            if (Get(flops, "shared_context_per_sample") is { ValueKind: JsonValueKind.Object } splits)
                foreach (var p in splits.EnumerateObject())
                    if (p.Value.ValueKind == JsonValueKind.Number) shared[p.Name] = p.Value.GetDouble();
            return new ModelFlops(encoder.GetDouble(), perSample, shared);
        }
    }
}
