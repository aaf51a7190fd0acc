using Microsoft.Extensions.Configuration;
using RobotCtl.Inference;

namespace RobotCtl.Runtime.Composition;

/// <summary>Every validated settings section of a run.</summary>
public sealed record RunSettings(
    RuntimeOptions Runtime, PlannerSettings Planner, SurpriseOptions Surprise, RecordingOptions Recording,
    SimOptions Sim, InferenceOptions Inference)
{
    /// <summary>Link loss, the camera/arm check and the control endpoint ("Safety" section).</summary>
    public SafetyOptions Safety { get; init; } = new();

    /// <summary>The "Inference" section, bound and validated: what a run and the model commands both read.</summary>
    public static InferenceOptions InferenceFrom(IConfiguration configuration)
    {
        // The hand-loaded library's setting is gone; say so rather than "unknown setting".
        if (configuration[OnnxRuntime.RemovedConfigurationKey] is not null) throw new ConfigurationValueException(OnnxRuntime.RemovedConfigurationMessage);
        AppConfiguration.Check<InferenceOptions>(configuration, "Inference");
        var inference = configuration.GetSection("Inference").Get<InferenceOptions>(o => o.ErrorOnUnknownConfiguration = true) ?? InferenceOptions.Default;
        // One thread per core is ONNX Runtime's own default (0); far beyond the cores only adds contention, and 100000 hangs.
        if (inference.IntraOpThreads is < 0 or > 1024) throw new ConfigurationValueException("Inference:IntraOpThreads", "0 (one per core) .. 1024", inference.IntraOpThreads);
        return inference;
    }

    /// <summary>Every settings section robotctl reads (Dashboard: the host's; Logging: Microsoft.Extensions.Logging's).</summary>
    public static readonly IReadOnlySet<string> KnownSections = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        RuntimeOptions.SectionName, PlannerSettings.SectionName, "Surprise", RecordingOptions.SectionName, SimOptions.SectionName,
        "Inference", SafetyOptions.SectionName, "Dashboard", "Logging",
    };

    /// <summary>Binds and validates every section; a bad value throws naming its key.</summary>
    public static RunSettings From(IConfiguration configuration)
    {
        // A typo in a section's name ("--set Planer:Samples=64", ROBOTCTL_Bogus__X) would otherwise change nothing, silently.
        // Top-level plain values are the launcher's own variables (ROBOTCTL_HOME, ROBOTCTL_DEBUG, ...), not sections.
        foreach (var section in configuration.GetChildren())
            if (section.Value is null && !KnownSections.Contains(section.Key))
                throw new ConfigurationValueException($"{section.Key}: unknown settings section; the sections are {string.Join(", ", KnownSections.Order(StringComparer.Ordinal))}");
        var runtime = AppConfiguration.Bind<RuntimeOptions>(configuration, RuntimeOptions.SectionName);
        var planner = AppConfiguration.Bind<PlannerSettings>(configuration, PlannerSettings.SectionName);
        AppConfiguration.Check<SurpriseOptions>(configuration, "Surprise");
        var surprise = configuration.GetSection("Surprise").Get<SurpriseOptions>(o => o.ErrorOnUnknownConfiguration = true) ?? new SurpriseOptions();
        var recording = AppConfiguration.Bind<RecordingOptions>(configuration, RecordingOptions.SectionName);
        var sim = AppConfiguration.Bind<SimOptions>(configuration, SimOptions.SectionName);
        var inference = InferenceFrom(configuration);
        runtime.Validate();
        planner.Validate();
        try { surprise.Validate(); } catch (ArgumentException e) { throw new ConfigurationValueException(e.Message); }
        recording.Validate();
        sim.Validate();
        var safety = AppConfiguration.Bind<SafetyOptions>(configuration, SafetyOptions.SectionName);
        safety.Validate();
        return new RunSettings(runtime, planner, surprise, recording, sim, inference) { Safety = safety };
    }
}
