using System.Text.Json;
using System.Text.Json.Serialization;

namespace RobotCtl.Runtime;

/// <summary>
/// "Planner" section: overrides of the model's planner defaults (null keeps the model's value). It is also how an
/// episode records what its plans were made with: every value filled in (<see cref="Of"/>), as JSON with the section's
/// own key names, read back by replay (<see cref="FromRecord"/>), which then plans with exactly those values.
/// </summary>
public sealed class PlannerSettings
{
    public const string SectionName = "Planner";

    private static readonly JsonSerializerOptions RecordJson = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, // MaxStd is +Infinity when unclamped
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>cem or mppi; null keeps the model's planner.solver.</summary>
    public Planning.SolverKind? Solver { get; set; }
    public int? Samples { get; set; }
    public int? TopK { get; set; }
    public int? Iterations { get; set; }
    public int? Horizon { get; set; }
    public float? InitStd { get; set; }

    /// <summary>The initial std per action dimension (the manifest's planner.init_std_per_dim); null keeps the model's.</summary>
    public float[]? InitStdPerDim { get; set; }

    /// <summary>Stop iterating before this deadline (ms) and return the best plan so far; null: run every iteration.</summary>
    public double? DeadlineMs { get; set; }

    /// <summary>V-JEPA 2-AC-style momentum: weight kept on the previous mean / std at each refit (0..1).</summary>
    public float? MeanMomentum { get; set; }
    public float? StdMomentum { get; set; }

    /// <summary>Clamp on the refit std in normalised units (TD-MPC2's MPPI: 0.05..2).</summary>
    public float? MinStd { get; set; }
    public float? MaxStd { get; set; }

    /// <summary>MPPI temperature.</summary>
    public float? Temperature { get; set; }

    /// <summary>Physical gripper actions with |g| below this become 0 (V-JEPA 2-AC: 0.25).</summary>
    public float? GripperDeadband { get; set; }

    /// <summary>What a plan executes: "best" (the best sample scored) or "mean" (the final sampling mean, as
    /// stable-worldmodel's CEM); null keeps the model's planner.execute.</summary>
    public string? Execute { get; set; }

    /// <summary>Re-score the best sample so far in every iteration; null keeps the model's planner.elitism.</summary>
    public bool? Elitism { get; set; }

    /// <summary>Start each plan from the previous plan's shifted mean; null keeps the model's planner.warm_start.</summary>
    public bool? WarmStart { get; set; }

    /// <summary>Sample 0 of every iteration is the current mean; null keeps the model's planner.mean_sample.</summary>
    public bool? MeanSample { get; set; }

    /// <summary>Give the predictor the positions every candidate shares once, when the model has a shared-context graph
    /// (default true; false runs every position for every candidate, e.g. to compare).</summary>
    public bool? SharedContext { get; set; }

    /// <summary>Threads a rollout step's predictor calls run on, the candidates split between them (default 1); pair with
    /// Inference:IntraOpThreads=1.</summary>
    public int? RolloutThreads { get; set; }

    /// <summary>
    /// How each horizon step's distance to the goal counts: "last" (LeWM), "sum", or comma-separated weights, one per
    /// horizon step; null or empty keeps the model's planner.cost_shape.
    /// </summary>
    public string? CostShape { get; set; }

    /// <summary>Weights of the latent's first dimensions in the distance to the goal, comma-separated ("1,1,4,4"; the rest
    /// weigh 1); null keeps the model's planner.latent_weights.</summary>
    public string? LatentWeights { get; set; }

    /// <summary>
    /// Observed frames the world-model planner gets as context (the current one and those one action block before it,
    /// with the blocks executed between them), 1..the model's predictor.history; null: the model's predictor.history.
    /// 1 is the single-frame loop.
    /// </summary>
    public int? ContextFrames { get; set; }

    /// <summary>
    /// <see cref="ContextFrames"/> once the model is known: within 1..<paramref name="modelHistory"/>, the model's history
    /// when not set.
    /// </summary>
    public int ContextFramesFor(int modelHistory, string modelName, int? modelDefault = null)
    {
        var frames = ContextFrames ?? modelDefault ?? modelHistory;
        if (frames < 1 || frames > modelHistory)
            throw new ConfigurationValueException($"{SectionName}:ContextFrames", $"1..{modelHistory} (model '{modelName}' predictor.history)", frames);
        return frames;
    }

    /// <summary>
    /// TopK once the model's defaults are known: an explicit TopK above the samples is refused, naming both (it used to
    /// be clamped silently); the model's own TopK still shrinks to fit a smaller Samples override.
    /// </summary>
    public int TopKFor(int modelSamples, int modelTopK)
    {
        var samples = Samples ?? modelSamples;
        if (TopK is { } k && k > samples)
            throw new ConfigurationValueException($"{SectionName}:TopK",
                $"<= {SectionName}:Samples ({samples}{(Samples is null ? ", the model's planner.samples" : "")})", k);
        return Math.Min(TopK ?? modelTopK, samples);
    }

    /// <summary>
    /// Upper bounds, far above any useful plan (LeWM plans with 300 samples, 30 iterations, horizon 5), that keep a typo
    /// from asking for more memory than a workstation has: every sample holds its action sequence, rollout latents and cost.
    /// </summary>
    public const int MaxSamples = 65_536, MaxIterations = 10_000, MaxHorizon = 256;

    /// <summary>
    /// Why <paramref name="samples"/> is too many, in memory: a LeWM-size plan (history 3 + horizon 5 positions of
    /// 192-float latents) holds 6 KB of rollout latents per sample, before the predictor's own activations.
    /// </summary>
    public static string SamplesMemory(long samples) =>
        $"each sample holds its actions, rollout latents and cost: at LeWM's size {samples} samples take {samples * 8 * 192 * sizeof(float) / 1e9:#,0.#} GB of latents alone";

    /// <summary>The settings a planner with <paramref name="o"/> was made from, every value filled in (what an episode records).</summary>
    public static PlannerSettings Of(Planning.PlannerOptions o, int contextFrames) => new()
    {
        Solver = o.Solver, Samples = o.Samples, TopK = o.TopK, Iterations = o.Iterations, Horizon = o.Horizon, InitStd = o.InitStd,
        InitStdPerDim = o.InitStdPerDim, DeadlineMs = o.Deadline?.TotalMilliseconds, MeanMomentum = o.MeanMomentum,
        StdMomentum = o.StdMomentum, MinStd = o.MinStd, MaxStd = o.MaxStd, Temperature = o.Temperature, GripperDeadband = o.GripperDeadband,
        Execute = o.Execute.ToString().ToLowerInvariant(), Elitism = o.Elitism, WarmStart = o.WarmStart, MeanSample = o.MeanSample,
        SharedContext = o.SharedContext, RolloutThreads = o.RolloutThreads, CostShape = o.CostShape.ToString(), ContextFrames = contextFrames,
        LatentWeights = o.LatentWeights is { } w ? Core.WorldModel.LatentWeights.Format(w) : null,
    };

    /// <summary>This record as an episode stores it (the section's key names).</summary>
    public string ToRecord() => JsonSerializer.Serialize(this, RecordJson);

    /// <summary>
    /// The settings an episode recorded, validated as configured ones are; null for an episode recorded before they were
    /// recorded in full (its plans' JSON had snake_case keys), which replay takes from its recorded configuration.
    /// </summary>
    public static PlannerSettings? FromRecord(string json, string where)
    {
        PlannerSettings? settings;
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || root.TryGetProperty("warm_start", out _)) return null;
            settings = root.Deserialize<PlannerSettings>(RecordJson);
            // Recorded before the shared-context graph existed: every position ran through the plain predictor, and a
            // replay that is to reproduce the plans bit for bit must too.
            if (settings is not null && !root.TryGetProperty("SharedContext", out _)) settings.SharedContext = false;
        }
        catch (JsonException e)
        {
            throw new ConfigurationValueException($"{where}: the recorded planner settings are not readable ({e.Message})");
        }
        settings?.Validate();
        return settings;
    }

    public void Validate()
    {
        const string s = SectionName;
        if (Samples is <= 0) throw new ConfigurationValueException($"{s}:Samples", "> 0", Samples);
        if (Samples > MaxSamples)
            throw new ConfigurationValueException($"{s}:Samples",
                $"at most {MaxSamples} ({SamplesMemory(Samples.Value)})", Samples);
        if (Iterations > MaxIterations) throw new ConfigurationValueException($"{s}:Iterations", $"at most {MaxIterations}", Iterations);
        if (RolloutThreads is < 1 or > Planning.PlannerOptions.MaxRolloutThreads)
            throw new ConfigurationValueException($"{s}:RolloutThreads", $"1..{Planning.PlannerOptions.MaxRolloutThreads}", RolloutThreads);
        if (Horizon > MaxHorizon) throw new ConfigurationValueException($"{s}:Horizon", $"at most {MaxHorizon} action blocks", Horizon);
        if (TopK is <= 0) throw new ConfigurationValueException($"{s}:TopK", "> 0", TopK);
        if (Samples is not null && TopK is not null && TopK > Samples) throw new ConfigurationValueException($"{s}:TopK", $"<= Samples ({Samples})", TopK);
        // Zero iterations scores nothing: the loop would run on the warm start with cost NaN.
        if (Iterations is < 1) throw new ConfigurationValueException($"{s}:Iterations", ">= 1", Iterations);
        if (Horizon is <= 0) throw new ConfigurationValueException($"{s}:Horizon", "> 0", Horizon);
        if (InitStd is not null && !(InitStd > 0)) throw new ConfigurationValueException($"{s}:InitStd", "> 0", InitStd);
        if (InitStdPerDim is { } perDim && Array.FindIndex(perDim, v => !(v > 0 && float.IsFinite(v))) is >= 0 and var bad)
            throw new ConfigurationValueException($"{s}:InitStdPerDim:{bad}", "a finite std > 0", perDim[bad]);
        if (DeadlineMs is not null && !(DeadlineMs is >= 0 and <= RuntimeOptions.MaxMs)) throw new ConfigurationValueException($"{s}:DeadlineMs", $"[0, {RuntimeOptions.MaxMs}] ms", DeadlineMs);
        if (MeanMomentum is not null && !(MeanMomentum is >= 0 and < 1)) throw new ConfigurationValueException($"{s}:MeanMomentum", "in [0, 1)", MeanMomentum);
        if (StdMomentum is not null && !(StdMomentum is >= 0 and < 1)) throw new ConfigurationValueException($"{s}:StdMomentum", "in [0, 1)", StdMomentum);
        if (MinStd is not null && !(MinStd >= 0)) throw new ConfigurationValueException($"{s}:MinStd", ">= 0", MinStd);
        if (MaxStd is not null && !(MaxStd > (MinStd ?? 0))) throw new ConfigurationValueException($"{s}:MaxStd", "> MinStd", MaxStd);
        if (Temperature is not null && !(Temperature > 0)) throw new ConfigurationValueException($"{s}:Temperature", "> 0", Temperature);
        if (GripperDeadband is not null && !(GripperDeadband >= 0)) throw new ConfigurationValueException($"{s}:GripperDeadband", ">= 0", GripperDeadband);
        if (Execute is not null && Execute is not ("best" or "mean")) throw new ConfigurationValueException($"{s}:Execute", "best or mean", Execute);
        if (ContextFrames is < 1) throw new ConfigurationValueException($"{s}:ContextFrames", ">= 1 (and at most the model's predictor.history)", ContextFrames);
        if (!string.IsNullOrWhiteSpace(LatentWeights))
        {
            try
            {
                Core.WorldModel.LatentWeights.Parse(LatentWeights);
            }
            catch (FormatException)
            {
                throw new ConfigurationValueException($"{s}:LatentWeights", "comma-separated weights >= 0 for the latent's first dimensions", LatentWeights);
            }
        }
        if (!string.IsNullOrWhiteSpace(CostShape))
        {
            try
            {
                Core.WorldModel.CostShape.Parse(CostShape);
            }
            catch (FormatException)
            {
                throw new ConfigurationValueException($"{s}:CostShape", "last, sum or comma-separated weights >= 0 (one per horizon step, at least one > 0)", CostShape);
            }
        }
    }
}
