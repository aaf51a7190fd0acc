using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RobotCtl.Runtime.Devices;

namespace RobotCtl.Runtime.Composition;

/// <summary>The services a command composes from, validated on creation.</summary>
public static class RuntimeServices
{
    /// <summary>
    /// Builds the container and resolves the settings at once, so a bad value fails here, naming its key, before any
    /// model is loaded or any device opened.
    /// </summary>
    /// <param name="devices">The cameras and arms the host provides (null: <see cref="DeviceRegistry.WithHardware"/>).</param>
    public static ServiceProvider Create(IConfiguration configuration, ILoggerFactory? loggers = null, DeviceRegistry? devices = null)
    {
        var services = new ServiceCollection();
        if (loggers is not null) services.AddSingleton(loggers);
        services.AddRobotCtlRuntime(configuration, devices);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        try
        {
            _ = provider.GetRequiredService<RuntimeFactory>();
            return provider;
        }
        catch
        {
            provider.Dispose();
            throw;
        }
    }

    /// <summary>The factory of a container made by <see cref="Create"/>.</summary>
    public static RuntimeFactory Factory(this IServiceProvider services) => services.GetRequiredService<RuntimeFactory>();
}
