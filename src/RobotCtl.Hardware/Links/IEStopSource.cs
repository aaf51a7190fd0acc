namespace RobotCtl.Hardware.Links;

/// <summary>A link on which an e-stop can be requested from outside this process (MQTT: the robot's estop topic).</summary>
public interface IEStopSource
{
    /// <summary>
    /// Raised on a link thread with a reason naming where the request came from. A request that arrives before anyone
    /// subscribes (e.g. a retained message delivered on connect) is kept and delivered to the first subscriber.
    /// </summary>
    event Action<string>? EStopRequested;
}
