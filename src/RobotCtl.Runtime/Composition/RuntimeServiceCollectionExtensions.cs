using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RobotCtl.Inference;
using RobotCtl.Runtime.Devices;

namespace RobotCtl.Runtime.Composition;

/// <summary>Registers the runtime's composition with Microsoft.Extensions.DependencyInjection.</summary>
public static class RuntimeServiceCollectionExtensions
{
    /// <summary>
    /// The configuration, its settings (bound and validated, each bad value named by key), the host's devices, the
    /// <see cref="RuntimeFactory"/> and the run's <see cref="ControlSession"/>. Loggers come from an <see cref="ILoggerFactory"/> already registered, else none.
    /// </summary>
    /// <param name="devices">The cameras and arms this host provides (null: <see cref="DeviceRegistry.WithHardware"/>).</param>
    public static IServiceCollection AddRobotCtlRuntime(this IServiceCollection services, IConfiguration configuration, DeviceRegistry? devices = null)
    {
        services.AddSingleton(configuration);
        services.AddSingleton(devices ?? DeviceRegistry.WithHardware());
        services.AddRobotCtlSettings(configuration);
        services.AddSingleton(sp => new RuntimeFactory(configuration, sp.GetRequiredService<RunSettings>(),
            sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance, sp.GetRequiredService<DeviceRegistry>()));
        // One run per container: `run` hosts it, eval makes a container per episode.
        services.AddSingleton<ControlSession>();
        return services;
    }

    /// <summary>
    /// Every settings section through the options pattern: bound with robotctl's key checks (an unknown key or a value
    /// of the wrong type is refused naming it), validated by the section's own rules (<see cref="IValidateOptions{T}"/>,
    /// also on a generic host's start), and gathered as <see cref="RunSettings"/>.
    /// </summary>
    public static IServiceCollection AddRobotCtlSettings(this IServiceCollection services, IConfiguration configuration)
    {
        Section<RuntimeOptions>(services, configuration, RuntimeOptions.SectionName, o => o.Validate());
        Section<PlannerSettings>(services, configuration, PlannerSettings.SectionName, o => o.Validate());
        Section<SurpriseOptions>(services, configuration, SurpriseOptions.SectionName, o =>
        {
            try { o.Validate(); } catch (ArgumentException e) { throw new ConfigurationValueException(e.Message); }
        });
        Section<RecordingOptions>(services, configuration, RecordingOptions.SectionName, o => o.Validate());
        Section<SimOptions>(services, configuration, SimOptions.SectionName, o => o.Validate());
        Section<SafetyOptions>(services, configuration, SafetyOptions.SectionName, o => o.Validate());
        services.AddOptions<InferenceOptions>().Configure(o => RunSettings.BindInference(configuration, o)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<InferenceOptions>>(new SettingsSectionValidator<InferenceOptions>(RunSettings.ValidateInference));
        services.AddSingleton(sp => RunSettings.FromOptions(sp, configuration));
        return services;
    }

    private static void Section<T>(IServiceCollection services, IConfiguration configuration, string name, Action<T> validate) where T : class
    {
        services.AddOptions<T>().Configure(o => AppConfiguration.BindInto(configuration, name, o)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<T>>(new SettingsSectionValidator<T>(validate));
    }
}
