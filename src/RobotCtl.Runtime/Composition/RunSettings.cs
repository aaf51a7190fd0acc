using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
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
        var inference = new InferenceOptions();
        BindInference(configuration, inference);
        ValidateInference(inference);
        return inference;
    }

    internal static void BindInference(IConfiguration configuration, InferenceOptions inference)
    {
        // The hand-loaded library's setting is gone; say so rather than "unknown setting".
        if (configuration[OnnxRuntime.RemovedConfigurationKey] is not null) throw new ConfigurationValueException(OnnxRuntime.RemovedConfigurationMessage);
        AppConfiguration.BindInto(configuration, "Inference", inference);
    }

    internal static void ValidateInference(InferenceOptions inference)
    {
        // One thread per core is ONNX Runtime's own default (0); far beyond the cores only adds contention, and 100000 hangs.
        if (inference.IntraOpThreads is < 0 or > 1024) throw new ConfigurationValueException("Inference:IntraOpThreads", "0 (one per core) .. 1024", inference.IntraOpThreads);
    }

    /// <summary>Every settings section robotctl reads (Dashboard: the host's; Logging: Microsoft.Extensions.Logging's).</summary>
    public static readonly IReadOnlySet<string> KnownSections = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        RuntimeOptions.SectionName, PlannerSettings.SectionName, SurpriseOptions.SectionName, RecordingOptions.SectionName, SimOptions.SectionName,
        "Inference", SafetyOptions.SectionName, "Dashboard", "Logging",
    };

    /// <summary>Binds and validates every section; a bad value throws naming its key.</summary>
    public static RunSettings From(IConfiguration configuration)
    {
        using var services = new ServiceCollection().AddRobotCtlSettings(configuration).BuildServiceProvider();
        return services.GetRequiredService<RunSettings>();
    }

    /// <summary>
    /// Every section from the options pattern (each bound by <see cref="AppConfiguration.Bind{T}"/>'s key checks and
    /// validated by its <see cref="SettingsSectionValidator{T}"/>), in the order a user reads appsettings.json.
    /// </summary>
    internal static RunSettings FromOptions(IServiceProvider services, IConfiguration configuration)
    {
        // A typo in a section's name ("--set Planer:Samples=64", ROBOTCTL_Bogus__X) would otherwise change nothing, silently.
        // Top-level plain values are the launcher's own variables (ROBOTCTL_HOME, ROBOTCTL_DEBUG, ...), not sections.
        foreach (var section in configuration.GetChildren())
            if (section.Value is null && !KnownSections.Contains(section.Key))
                throw new ConfigurationValueException($"{section.Key}: unknown settings section; the sections are {string.Join(", ", KnownSections.Order(StringComparer.Ordinal))}");
        T Section<T>() where T : class
        {
            try
            {
                return services.GetRequiredService<IOptions<T>>().Value;
            }
            catch (OptionsValidationException e)
            {
                throw ConfigurationValueException.From(e);
            }
        }
        return new RunSettings(Section<RuntimeOptions>(), Section<PlannerSettings>(), Section<SurpriseOptions>(), Section<RecordingOptions>(),
            Section<SimOptions>(), Section<InferenceOptions>()) { Safety = Section<SafetyOptions>() };
    }
}
