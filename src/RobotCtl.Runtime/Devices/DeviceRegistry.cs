using RobotCtl.Core.Arm;
using RobotCtl.Core.Vision;
using RobotCtl.Hardware;
using RobotCtl.Vision.Cameras;

namespace RobotCtl.Runtime.Devices;

/// <summary>
/// The cameras and arm links a host can open, by kind. The host fills it (<see cref="WithHardware"/> for OpenCV
/// capture and the serial and MQTT links, plus whatever else it has: robotctl's simulated workcell); a run picks from it
/// by the parsed Runtime:Camera and Runtime:Arm. Adding a camera or an arm kind is one registration, not a new case in
/// Runtime.
/// </summary>
public sealed class DeviceRegistry
{
    private readonly Dictionary<CameraSourceKind, CameraProvider> _cameras = [];
    private readonly Dictionary<ArmTransport, ArmProvider> _arms = [];

    /// <summary>OpenCV capture for every non-simulated camera source, and the serial and MQTT arm links.</summary>
    public static DeviceRegistry WithHardware()
    {
        var registry = new DeviceRegistry();
        foreach (var kind in Enum.GetValues<CameraSourceKind>().Where(k => k != CameraSourceKind.Sim))
            registry.AddCamera(kind, static (source, request, _) => new CaptureCamera(source, request));
        registry.AddArm(ArmTransport.Serial, static (profile, context) => ArmLinkFactory.Create(Profile(profile, ArmTransport.Serial), context.Loggers));
        registry.AddArm(ArmTransport.Mqtt, static (profile, context) => ArmLinkFactory.Create(Profile(profile, ArmTransport.Mqtt), context.Loggers));
        return registry;
    }

    /// <summary>Registers (or replaces) the provider of one camera source kind.</summary>
    public DeviceRegistry AddCamera(CameraSourceKind kind, CameraProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        _cameras[kind] = provider;
        return this;
    }

    /// <summary>Registers (or replaces) the provider of one arm transport (<see cref="ArmTransport.Sim"/>: also Runtime:Arm=sim).</summary>
    public DeviceRegistry AddArm(ArmTransport transport, ArmProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        _arms[transport] = provider;
        return this;
    }

    /// <summary>An unstarted camera for <paramref name="source"/>; refused naming Runtime:Camera when this host has no such kind.</summary>
    public ICamera CreateCamera(CameraSource source, CameraRequest request, DeviceContext context) =>
        _cameras.TryGetValue(source.Kind, out var provider)
            ? provider(source, request, context)
            : throw new ConfigurationValueException($"{RuntimeOptions.SectionName}:Camera", $"a camera this host provides ({Names(_cameras.Keys)})", source);

    /// <summary>An unconnected link for <paramref name="profile"/> (null: the simulated arm); refused when this host has no such transport.</summary>
    public IArmLink CreateArm(ArmProfile? profile, DeviceContext context)
    {
        var transport = profile?.Transport ?? ArmTransport.Sim;
        return _arms.TryGetValue(transport, out var provider)
            ? provider(profile, context)
            : throw new ConfigurationValueException($"{RuntimeOptions.SectionName}:Arm", $"an arm this host provides ({Names(_arms.Keys)})",
                profile is null ? "sim" : $"{profile.Name} (transport {transport})");
    }

    private static ArmProfile Profile(ArmProfile? profile, ArmTransport transport) =>
        profile ?? throw new InvalidOperationException($"a {transport} arm needs its profile");

    private static string Names<T>(IEnumerable<T> kinds) where T : struct, Enum =>
        string.Join(", ", kinds.Select(k => k.ToString().ToLowerInvariant()).Order(StringComparer.Ordinal));
}
