using RobotCtl.Host.Composition;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RobotCtl.Runtime.Composition;
using RobotCtl.Runtime.Devices;
using RobotCtl.Sim.Devices;

namespace RobotCtl.Host.Composition;

/// <summary>The runtime's services as this host composes them: every hardware kind plus the simulated workcell.</summary>
internal static class HostServices
{
    /// <summary>OpenCV cameras, serial and MQTT arms, and the simulated workcell's camera and arm.</summary>
    public static DeviceRegistry Devices() => DeviceRegistry.WithHardware().AddSimWorkcell();

    /// <summary><see cref="RuntimeServices.Create"/> with this host's devices: settings validated at once, naming a bad key.</summary>
    public static ServiceProvider Create(IConfiguration configuration, ILoggerFactory? loggers = null) =>
        RuntimeServices.Create(configuration, loggers, Devices());

    /// <summary>The runtime (settings, devices, factory, the run's <see cref="Runtime.ControlSession"/>) in a host's container.</summary>
    public static IServiceCollection AddRobotCtl(this IServiceCollection services, IConfiguration configuration) =>
        services.AddRobotCtlRuntime(configuration, Devices());
}
