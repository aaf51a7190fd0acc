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
