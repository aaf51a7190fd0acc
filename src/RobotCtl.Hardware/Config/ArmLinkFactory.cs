using Microsoft.Extensions.Logging;
using RobotCtl.Core.Arm;
using RobotCtl.Hardware.Links;

namespace RobotCtl.Hardware;

/// <summary>Builds the serial or MQTT link a profile describes (a profile with transport sim names the host's simulated arm).</summary>
public static class ArmLinkFactory
{
    /// <param name="profile">The arm profile.</param>
    /// <param name="loggerFactory">Optional logging.</param>
    public static IArmLink Create(ArmProfile profile, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return profile.Transport switch
        {
            ArmTransport.Serial => new SerialArmLink(profile.Serial ?? throw new ConfigException($"profile {profile.Name}: transport serial needs a 'serial' section"),
                loggerFactory?.CreateLogger<SerialArmLink>()),
            ArmTransport.Mqtt => new MqttArmLink(profile.Mqtt ?? throw new ConfigException($"profile {profile.Name}: transport mqtt needs an 'mqtt' section"),
                loggerFactory?.CreateLogger<MqttArmLink>()),
            ArmTransport.Sim => throw new ConfigException($"profile {profile.Name}: transport sim is the host's simulated arm, registered by the host, not a link Hardware makes"),
            _ => throw new ConfigException($"profile {profile.Name}: unknown transport {profile.Transport}"),
        };
    }
}
