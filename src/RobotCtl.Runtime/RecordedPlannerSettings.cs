using System.Text.Json;
using System.Text.Json.Serialization;
using RobotCtl.Core.WorldModel;
using RobotCtl.Planning;

namespace RobotCtl.Runtime;

/// <summary>
/// The planner settings a run planned with, in full, as one record: written once per run (as JSON, snake_case, with
/// every plan of the episode) and read back by replay, which plans with exactly these values rather than re-deriving
/// them from the recorded configuration and today's model defaults. Every field is optional on reading: an episode
/// recorded before a field existed keeps the configuration's value for it.
/// </summary>
public sealed record RecordedPlannerSettings
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        PropertyNameCaseInsensitive = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, // max_std is +Infinity when unclamped
    };

    public string? Planner { get; init; }
    public string? Solver { get; init; }
    public int? Samples { get; init; }
    public int? TopK { get; init; }
    public int? Iterations { get; init; }
    public int? Horizon { get; init; }
    public float? InitStd { get; init; }
    public float[]? InitStdPerDim { get; init; }
    public float? MeanMomentum { get; init; }
    public float? StdMomentum { get; init; }
    public float? MinStd { get; init; }
    public float? MaxStd { get; init; }
    public float? Temperature { get; init; }
    public float? GripperDeadband { get; init; }
    public string? Execute { get; init; }
    public bool? Elitism { get; init; }
    public bool? WarmStart { get; init; }
    public bool? MeanSample { get; init; }
    public string? CostShape { get; init; }

    /// <summary>Runtime:Seed: plan n of the run sampled with seed + n.</summary>
    public int? Seed { get; init; }
    public int? ExecuteBlocks { get; init; }
    public double? DeadlineMs { get; init; }
    public int? ContextFrames { get; init; }

    public static RecordedPlannerSettings Of(PlannerOptions o, string planner, int seed, int executeBlocks, int contextFrames) => new()
    {
        Planner = planner, Solver = o.Solver.ToString().ToLowerInvariant(), Samples = o.Samples, TopK = o.TopK, Iterations = o.Iterations,
        Horizon = o.Horizon, InitStd = o.InitStd, InitStdPerDim = o.InitStdPerDim, MeanMomentum = o.MeanMomentum, StdMomentum = o.StdMomentum,
        MinStd = o.MinStd, MaxStd = o.MaxStd, Temperature = o.Temperature, GripperDeadband = o.GripperDeadband,
        Execute = o.Execute.ToString().ToLowerInvariant(), Elitism = o.Elitism, WarmStart = o.WarmStart, MeanSample = o.MeanSample,
        CostShape = o.CostShape.ToString(), Seed = seed, ExecuteBlocks = executeBlocks, DeadlineMs = o.Deadline?.TotalMilliseconds,
        ContextFrames = contextFrames,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>The record in <paramref name="json"/>; a text that is not this record's JSON is refused naming where it came from.</summary>
    public static RecordedPlannerSettings Read(string json, string where)
    {
        try
        {
            return JsonSerializer.Deserialize<RecordedPlannerSettings>(json, Json) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new ConfigurationValueException($"{where}: the recorded planner settings are not readable ({e.Message})");
        }
    }

    /// <summary>
    /// <paramref name="options"/> with every recorded value in place (the seed and deadline are the caller's: replay
    /// seeds each plan from its own record and never stops at a deadline).
    /// </summary>
    public PlannerOptions ApplyTo(PlannerOptions options) => options with
    {
        Solver = Solver is { } solver ? Enum.Parse<SolverKind>(solver, ignoreCase: true) : options.Solver,
        Samples = Samples ?? options.Samples,
        TopK = TopK ?? options.TopK,
        Iterations = Iterations ?? options.Iterations,
        Horizon = Horizon ?? options.Horizon,
        InitStd = InitStd ?? options.InitStd,
        InitStdPerDim = InitStd is null ? options.InitStdPerDim : InitStdPerDim,
        MeanMomentum = MeanMomentum ?? options.MeanMomentum,
        StdMomentum = StdMomentum ?? options.StdMomentum,
        MinStd = MinStd ?? options.MinStd,
        MaxStd = MaxStd ?? options.MaxStd,
        Temperature = Temperature ?? options.Temperature,
        GripperDeadband = GripperDeadband ?? options.GripperDeadband,
        Execute = Execute is { } execute ? PlannerOptions.ParseExecute(execute, "recorded planner settings execute") : options.Execute,
        Elitism = Elitism ?? options.Elitism,
        WarmStart = WarmStart ?? options.WarmStart,
        MeanSample = MeanSample ?? options.MeanSample,
        CostShape = CostShape is { } shape ? Core.WorldModel.CostShape.Parse(shape) : options.CostShape,
    };
}
