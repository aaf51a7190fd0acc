using System.Globalization;
using RobotCtl.Planning;

namespace RobotCtl.Runtime.Composition;

/// <summary>
/// What a command changes in the settings, typed: a command fills these from its options and never spells a
/// "Section:Key" (<see cref="ToConfiguration"/> is the one place that does, from the options' own names). A null
/// leaves the setting to appsettings.json and the environment. <see cref="Sets"/> are the user's own `--set
/// Section:Key=Value` arguments, applied after the typed values (they win).
/// </summary>
public sealed record SettingsOverrides
{
    /// <summary>The simulated workcell as camera and arm (run --sim).</summary>
    public bool Sim { get; init; }
    public string? Model { get; init; }
    public string? Camera { get; init; }
    public string? Arm { get; init; }
    public string? Calibration { get; init; }
    public int? MaxSteps { get; init; }
    public int? Seed { get; init; }
    public ReplanMode? ReplanMode { get; init; }
    public double? CommandRateHz { get; init; }
    public double? ChunkSlackMs { get; init; }

    /// <summary>Planner:DeadlineMs; see <see cref="NoDeadline"/> to clear a configured one.</summary>
    public double? DeadlineMs { get; init; }

    /// <summary>Plan every iteration whatever appsettings.json says (eval, plan, score: results must not depend on load).</summary>
    public bool NoDeadline { get; init; }
    public int? Samples { get; init; }
    public int? TopK { get; init; }
    public int? Iterations { get; init; }
    public int? Horizon { get; init; }
    public SolverKind? Solver { get; init; }
    public string? CostShape { get; init; }
    public string? SimScene { get; init; }
    public bool? SimRenderOnRead { get; init; }
    public bool? SurpriseEnabled { get; init; }

    /// <summary>Safety:AllowUnlinkedCamera: a sim camera beside a real arm, on purpose.</summary>
    public bool? AllowUnlinkedCamera { get; init; }

    /// <summary>Record the episode into this directory (turns recording on).</summary>
    public string? RecordTo { get; init; }

    /// <summary>Recording:Enabled, when a command decides it without a directory.</summary>
    public bool? Record { get; init; }
    public IReadOnlyList<string> Sets { get; init; } = [];

    /// <summary>The overrides as configuration keys and values, in order (later wins).</summary>
    public IEnumerable<KeyValuePair<string, string?>> ToConfiguration()
    {
        var o = new List<KeyValuePair<string, string?>>();
        void Set<T>(string section, string key, T? value)
        {
            if (value is not null) o.Add(new($"{section}:{key}", Convert.ToString(value, CultureInfo.InvariantCulture)));
        }
        const string runtime = RuntimeOptions.SectionName, planner = PlannerSettings.SectionName;
        if (Sim)
        {
            Set(runtime, nameof(RuntimeOptions.Camera), RuntimeOptions.Sim);
            Set(runtime, nameof(RuntimeOptions.Arm), RuntimeOptions.Sim);
        }
        Set(runtime, nameof(RuntimeOptions.Model), Model);
        Set(runtime, nameof(RuntimeOptions.Camera), Camera);
        Set(runtime, nameof(RuntimeOptions.Arm), Arm);
        Set(runtime, nameof(RuntimeOptions.Calibration), Calibration);
        Set(runtime, nameof(RuntimeOptions.MaxSteps), MaxSteps);
        Set(runtime, nameof(RuntimeOptions.Seed), Seed);
        Set(runtime, nameof(RuntimeOptions.ReplanMode), ReplanMode);
        Set(runtime, nameof(RuntimeOptions.CommandRateHz), CommandRateHz);
        Set(runtime, nameof(RuntimeOptions.ChunkSlackMs), ChunkSlackMs);
        if (NoDeadline) o.Add(new($"{planner}:{nameof(PlannerSettings.DeadlineMs)}", null));
        Set(planner, nameof(PlannerSettings.DeadlineMs), DeadlineMs);
        Set(planner, nameof(PlannerSettings.Samples), Samples);
        Set(planner, nameof(PlannerSettings.TopK), TopK);
        Set(planner, nameof(PlannerSettings.Iterations), Iterations);
        Set(planner, nameof(PlannerSettings.Horizon), Horizon);
        Set(planner, nameof(PlannerSettings.Solver), Solver);
        Set(planner, nameof(PlannerSettings.CostShape), CostShape);
        Set(SimOptions.SectionName, nameof(SimOptions.Scene), SimScene);
        Set(SimOptions.SectionName, nameof(SimOptions.RenderOnRead), SimRenderOnRead);
        Set(SurpriseOptions.SectionName, nameof(SurpriseOptions.Enabled), SurpriseEnabled);
        Set(SafetyOptions.SectionName, nameof(SafetyOptions.AllowUnlinkedCamera), AllowUnlinkedCamera);
        Set(RecordingOptions.SectionName, nameof(RecordingOptions.Enabled), Record);
        if (RecordTo is not null)
        {
            Set(RecordingOptions.SectionName, nameof(RecordingOptions.Directory), RecordTo);
            Set(RecordingOptions.SectionName, nameof(RecordingOptions.Enabled), true);
        }
        o.AddRange(AppConfiguration.ParseSets(Sets));
        return o;
    }
}
