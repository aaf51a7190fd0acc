namespace RobotCtl.Hardware.Servers;

/// <summary>Arm-side (peer) settings shared by the serial and MQTT servers.</summary>
public sealed record ArmServerOptions
{
    /// <summary>Without a command for this long the arm is held (hold applied once, heartbeat says Holding).</summary>
    public TimeSpan Watchdog { get; init; } = TimeSpan.FromMilliseconds(250);
    /// <summary>Heartbeat period; over MQTT the heartbeat frames go to the state topic.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromMilliseconds(200);
    /// <summary>State is published after every applied command and at least this often.</summary>
    public TimeSpan StateInterval { get; init; } = TimeSpan.FromMilliseconds(50);
    /// <summary>
    /// A command that arrives this much later than the fastest delivery seen from its sender is stale (e.g. queued
    /// in a broker during an outage) and is dropped, not applied.
    /// </summary>
    public TimeSpan MaxCommandAge { get; init; } = TimeSpan.FromMilliseconds(250);

    public void Validate()
    {
        if (Watchdog <= TimeSpan.Zero) throw new ArgumentException($"Watchdog: expected > 0, found {Watchdog}");
        if (HeartbeatInterval <= TimeSpan.Zero) throw new ArgumentException($"HeartbeatInterval: expected > 0, found {HeartbeatInterval}");
        if (StateInterval <= TimeSpan.Zero) throw new ArgumentException($"StateInterval: expected > 0, found {StateInterval}");
        if (MaxCommandAge <= TimeSpan.Zero) throw new ArgumentException($"MaxCommandAge: expected > 0, found {MaxCommandAge}");
    }
}
