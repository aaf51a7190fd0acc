namespace RobotCtl.Hardware.Links;

/// <summary>MQTT transport settings (both ends). Topics live under robotctl/&lt;RobotId&gt;/.</summary>
public sealed record MqttLinkOptions
{
    public string Host { get; init; } = "127.0.0.1";
    public int Port { get; init; } = 1883;
    public required string RobotId { get; init; }
    /// <summary>QoS for commands, state and e-stop (0 or 1; 2 adds a round trip and buys nothing for stale-dropping streams).</summary>
    public int Qos { get; init; }
    public int KeepAliveSeconds { get; init; } = 5;
    public string? Username { get; init; }
    public string? Password { get; init; }
    /// <summary>Enables TLS: a CA file (PEM) to verify the broker; optional client certificate and key for mutual TLS.</summary>
    public string? TlsCaFile { get; init; }
    public string? TlsCertFile { get; init; }
    public string? TlsKeyFile { get; init; }
    public TimeSpan ReconnectInitialDelay { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(8);
    /// <summary>How long <c>ConnectAsync</c> waits for the broker's CONNACK before failing.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public string TopicPrefix => $"robotctl/{RobotId}";

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Host)) throw new ArgumentException("Mqtt.Host: expected a host name or address, found nothing");
        if (Port is < 1 or > 65535) throw new ArgumentException($"Mqtt.Port: expected 1..65535, found {Port}");
        if (string.IsNullOrWhiteSpace(RobotId) || RobotId.IndexOfAny(['/', '+', '#', ' ']) >= 0)
            throw new ArgumentException($"Mqtt.RobotId: expected a non-empty id without '/', '+', '#' or spaces, found '{RobotId}'");
        if (Qos is < 0 or > 2) throw new ArgumentException($"Mqtt.Qos: expected 0, 1 or 2, found {Qos}");
        if (KeepAliveSeconds < 5) throw new ArgumentException($"Mqtt.KeepAliveSeconds: expected >= 5, found {KeepAliveSeconds}");
        if (TlsCertFile is null != TlsKeyFile is null) throw new ArgumentException("Mqtt.TlsCertFile and Mqtt.TlsKeyFile: give both or neither");
        if ((TlsCertFile is not null) && TlsCaFile is null) throw new ArgumentException("Mqtt.TlsCaFile: required when a client certificate is given");
        if (ReconnectInitialDelay < TimeSpan.FromMilliseconds(10) || ReconnectMaxDelay < ReconnectInitialDelay)
            throw new ArgumentException($"Mqtt reconnect delays: expected 10 ms <= initial <= max, found {ReconnectInitialDelay} / {ReconnectMaxDelay}");
    }
}
