using Microsoft.Extensions.Logging;
using RobotCtl.Core.Arm;
using RobotCtl.Hardware.Links;

namespace RobotCtl.Hardware;

/// <summary>Builds the link a profile describes.</summary>
public static class ArmLinkFactory
{
    /// <param name="profile">The arm profile.</param>
    /// <param name="loggerFactory">Optional logging.</param>
    /// <param name="simLink">Creates the in-process sim link (the host passes <c>() => new SimArmLink(workcell)</c>; Hardware does not know Sim).</param>
    public static IArmLink Create(ArmProfile profile, ILoggerFactory? loggerFactory = null, Func<IArmLink>? simLink = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return profile.Transport switch
        {
            ArmTransport.Serial => new SerialArmLink(profile.Serial ?? throw new ConfigException($"profile {profile.Name}: transport serial needs a 'serial' section"),
                loggerFactory?.CreateLogger<SerialArmLink>()),
            ArmTransport.Mqtt => new MqttArmLink(profile.Mqtt ?? throw new ConfigException($"profile {profile.Name}: transport mqtt needs an 'mqtt' section"),
                loggerFactory?.CreateLogger<MqttArmLink>()),
            ArmTransport.Sim => simLink?.Invoke() ?? throw new ConfigException($"profile {profile.Name}: transport sim needs the host to supply the simulated arm"),
            _ => throw new ConfigException($"profile {profile.Name}: unknown transport {profile.Transport}"),
        };
    }
}
