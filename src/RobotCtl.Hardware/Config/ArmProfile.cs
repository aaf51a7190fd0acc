using System.Globalization;
using RobotCtl.Hardware.Links;

namespace RobotCtl.Hardware;

/// <summary>
/// One arm as the runtime drives it (hardware/profiles/&lt;name&gt;.json): the transport and its settings, the
/// command rate, an optional watchdog override and the rig whose calibration supplies the limits.
/// </summary>
public sealed record ArmProfile
{
    public required string Name { get; init; }
    public required ArmTransport Transport { get; init; }
    public SerialLinkOptions? Serial { get; init; }
    public MqttLinkOptions? Mqtt { get; init; }
    /// <summary>Commands per second the streamer sends (at most the limits' MaxRateHz).</summary>
    public double CommandRateHz { get; init; } = 20;
    /// <summary>Overrides the rig limits' CommandWatchdog when set.</summary>
    public TimeSpan? Watchdog { get; init; }
    /// <summary>The rig under calibration/ whose limits.json and action.json apply.</summary>
    public string Rig { get; init; } = "default";

    public static ArmProfile Load(string file)
    {
        var (doc, json) = JsonConfig.Open(file);
        using (doc)
        {
            json.RejectUnknown("name", "transport", "serial", "mqtt", "commandRateHz", "watchdogMs", "rig");
            var transportText = json.RequiredString("transport");
            if (!Enum.TryParse<ArmTransport>(transportText, ignoreCase: true, out var transport) || int.TryParse(transportText, out _))
                throw json.Error("transport", "\"serial\", \"mqtt\" or \"sim\"", $"\"{transportText}\"");
            var profile = new ArmProfile
            {
                Name = json.String("name") ?? Path.GetFileNameWithoutExtension(file),
                Transport = transport,
                Serial = json.Object("serial") is { } s ? ReadSerial(s) : null,
                Mqtt = json.Object("mqtt") is { } m ? ReadMqtt(m) : null,
                CommandRateHz = json.Number("commandRateHz") ?? 20,
                Watchdog = json.Number("watchdogMs") is { } w ? TimeSpan.FromMilliseconds(CheckedWatchdogMs(json, w)) : null,
                Rig = json.String("rig") ?? "default",
            };
            if (!(profile.CommandRateHz > 0)) throw json.Error("commandRateHz", "a number > 0", profile.CommandRateHz.ToString(CultureInfo.InvariantCulture));
            if (transport == ArmTransport.Serial && profile.Serial is null) throw json.Error("serial", "an object (transport is serial)", "nothing");
            if (transport == ArmTransport.Mqtt && profile.Mqtt is null) throw json.Error("mqtt", "an object (transport is mqtt)", "nothing");
            try
            {
                profile.Serial?.Validate();
                profile.Mqtt?.Validate();
            }
            catch (ArgumentException e) { throw new ConfigException($"{file}: {e.Message}"); }
            return profile;
        }
    }

    /// <summary>The rig's limits (calibration/&lt;Rig&gt;/limits.json under <paramref name="calibrationRoot"/>) with this profile's overrides.</summary>
    public RigCalibration LoadCalibration(string calibrationRoot)
    {
        var rig = RigCalibration.Load(Path.Combine(calibrationRoot, Rig));
        var limits = Watchdog is { } w ? rig.Limits with { CommandWatchdog = w } : rig.Limits;
        if (CommandRateHz > limits.MaxRateHz)
            throw new ConfigException($"profile {Name}: commandRateHz {CommandRateHz} exceeds the rig's maxRateHz {limits.MaxRateHz} (calibration/{Rig}/limits.json)");
        return rig with { Limits = limits };
    }

    /// <summary>The override obeys the same range as limits.json's commandWatchdogMs (checked before TimeSpan, which throws on huge values).</summary>
    private static double CheckedWatchdogMs(JsonConfig json, double ms) =>
        LimitRanges.CheckRange(ms, LimitRanges.MinWatchdogMs, LimitRanges.MaxWatchdogMs) is { } expected
            ? throw json.Error("watchdogMs", expected, LimitRanges.Show(ms))
            : ms;

    private static SerialLinkOptions ReadSerial(JsonConfig j)
    {
        j.RejectUnknown("device", "baud");
        return new SerialLinkOptions { Device = j.RequiredString("device"), Baud = j.Int("baud") ?? 115200 };
    }

    private static MqttLinkOptions ReadMqtt(JsonConfig j)
    {
        j.RejectUnknown("host", "port", "robotId", "qos", "keepAliveSeconds", "username", "password", "tls");
        var tls = j.Object("tls");
        tls?.RejectUnknown("caFile", "certFile", "keyFile");
        return new MqttLinkOptions
        {
            Host = j.String("host") ?? "127.0.0.1",
            Port = j.Int("port") ?? 1883,
            RobotId = j.RequiredString("robotId"),
            Qos = j.Int("qos") ?? 0,
            KeepAliveSeconds = j.Int("keepAliveSeconds") ?? 5,
            Username = j.String("username"),
            Password = j.String("password"),
            TlsCaFile = tls?.String("caFile"),
            TlsCertFile = tls?.String("certFile"),
            TlsKeyFile = tls?.String("keyFile"),
        };
    }
}
