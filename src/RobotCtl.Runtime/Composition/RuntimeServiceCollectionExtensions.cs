using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace RobotCtl.Runtime.Composition;

/// <summary>Registers the runtime's composition with Microsoft.Extensions.DependencyInjection.</summary>
public static class RuntimeServiceCollectionExtensions
{
    /// <summary>
    /// The configuration, its settings (bound and validated, each bad value named by key) and the
    /// <see cref="RuntimeFactory"/>. Loggers come from an <see cref="ILoggerFactory"/> already registered, else none.
    /// </summary>
    public static IServiceCollection AddRobotCtlRuntime(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(configuration);
        services.AddSingleton(_ => RunSettings.From(configuration));
        services.AddSingleton(sp => new RuntimeFactory(configuration, sp.GetRequiredService<RunSettings>(),
            sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance));
        return services;
    }
}
