namespace RobotCtl.Runtime;

/// <summary>
/// "Safety" section: what the runtime does around the governor (which takes its limits from the rig's limits.json):
/// when a silent arm link becomes a fault, whether a simulated camera may watch a real arm, and where the local
/// control endpoint (robotctl estop) listens.
/// </summary>
public sealed class SafetyOptions
{
    public const string SectionName = "Safety";

    /// <summary>No fresh arm state for this long (ms) ends the run as a fault (exit 5) naming the link.</summary>
    public double LinkLossMs { get; set; } = 3000;

    /// <summary>
    /// Allow the simulated camera with an arm that is not the simulated one. Refused by default: the camera would show
    /// a workcell the arm does not move, and the planner would steer a real arm by a picture that never changes.
    /// </summary>
    public bool AllowUnlinkedCamera { get; set; }

    /// <summary>
    /// Directory of the runtimes' control sockets (one per running runtime, mode 0600, in a directory of mode 0700);
    /// empty: $XDG_RUNTIME_DIR/robotctl, else the robotctl home's run/.
    /// </summary>
    public string? ControlDirectory { get; set; }

    public void Validate()
    {
        RuntimeOptions.Require(double.IsFinite(LinkLossMs) && LinkLossMs is >= 100 and <= 600_000, "LinkLossMs", "a time in [100, 600000] ms", LinkLossMs, SectionName);
    }

    /// <summary>
    /// Refuses a simulated camera with a non-simulated arm unless <see cref="AllowUnlinkedCamera"/> is set or the caller
    /// hands in the workcell the remote arm drives (<paramref name="sharedWorkcell"/>: tests serving it over a transport).
    /// <paramref name="armIsSimulated"/>: the arm is the in-process workcell ("sim", or a profile with transport sim;
    /// <see cref="Composition.RuntimeFactory.ArmIsSimulated"/>).
    /// </summary>
    public void CheckCameraMatchesArm(RuntimeOptions runtime, bool armIsSimulated, bool sharedWorkcell)
    {
        if (!runtime.CameraIsSim || armIsSimulated || sharedWorkcell || AllowUnlinkedCamera) return;
        throw new ConfigurationValueException(
            $"Runtime:Camera is \"sim\" but Runtime:Arm is \"{runtime.Arm}\": the simulated camera does not see that arm, " +
            $"so the planner would steer it by a picture it never changes; use the arm's camera (--camera), --arm sim, or set " +
            $"{SectionName}:AllowUnlinkedCamera=true (run --allow-unlinked-camera) if that is really meant");
    }
}
