namespace RobotCtl.Core.Arm;

/// <summary>
/// The far side of an arm link: something that executes commands and reports its state. The simulated
/// workcell implements it; Hardware exposes any backend over serial or MQTT (the sim-arm process).
/// </summary>
public interface IArmBackend
{
    /// <summary>Applies one command (already governed by the sender) and returns the resulting state.</summary>
    ArmState Apply(in EeCommand command);

    ArmState CurrentState { get; }
}
