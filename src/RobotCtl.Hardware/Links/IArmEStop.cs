namespace RobotCtl.Hardware.Links;

/// <summary>
/// A link whose arm side has its own e-stop latch (protocol EStop / Rearm frames): the runtime latches it together
/// with the governor, so the arm refuses motion even from a sender that bypasses this controller.
/// </summary>
public interface IArmEStop
{
    /// <summary>Sends an EStop frame now; false when the transport could not take it (the arm's watchdog still holds).</summary>
    bool SendEStop();

    /// <summary>Sends a Rearm frame now; false when the transport could not take it.</summary>
    bool SendRearm();
}

/// <summary>A link on which an e-stop can be requested from outside this process (MQTT: the robot's estop topic).</summary>
public interface IEStopSource
{
    /// <summary>
    /// Raised on a link thread with a reason naming where the request came from. A request that arrives before anyone
    /// subscribes (e.g. a retained message delivered on connect) is kept and delivered to the first subscriber.
    /// </summary>
    event Action<string>? EStopRequested;
}
