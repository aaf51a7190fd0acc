using RobotCtl.Vision.Cameras;

namespace RobotCtl.Runtime;

/// <summary>
/// "Runtime" section of appsettings.json: what the control loop is made of and how it paces itself.
/// Paths are relative to the robotctl home (the repository root) unless absolute.
/// </summary>
public sealed class RuntimeOptions
{
    public const string SectionName = "Runtime";

    /// <summary>Runtime:Arm's value for the simulated workcell's arm (Runtime:Camera's is parsed as <see cref="CameraSourceKind.Sim"/>).</summary>
    public const string Sim = "sim";

    /// <summary>Model directory (model.json + ONNX).</summary>
    public string Model { get; set; } = "models/examples/lewm-small";

    /// <summary>Rig calibration directory (camera.json, action.json, limits.json).</summary>
    public string Calibration { get; set; } = "calibration/default";

    /// <summary>Camera source: "sim", a V4L2 device or index, a video file, an image directory, rtsp://..., gst:...</summary>
    public string Camera { get; set; } = Sim;

    /// <summary>Arm: "sim" (in-process simulated workcell) or an arm profile (hardware/profiles/NAME.json or a path).</summary>
    public string Arm { get; set; } = Sim;

    /// <summary>Runtime:Camera parsed (once; a malformed source is refused by <see cref="Validate"/>, naming the key).</summary>
    public CameraSource CameraSource => _cameraSource ??= ParseCamera();

    /// <summary>Whether the camera is the simulated workcell's rendered view.</summary>
    public bool CameraIsSim => CameraSource.Kind == CameraSourceKind.Sim;

    /// <summary>Whether Runtime:Arm is the simulated workcell's arm rather than an arm profile.</summary>
    public bool ArmIsSim => Arm == Sim;

    private CameraSource? _cameraSource;

    /// <summary>Low-level command rate of the streamer (Hz): one low-level action per tick.</summary>
    public double CommandRateHz { get; set; } = 20;

    /// <summary>Frames older than this are refused (ms).</summary>
    public double MaxFrameAgeMs { get; set; } = 250;

    /// <summary>How long the loop waits for a fresh frame before it gives up the cycle (ms).</summary>
    public double FrameWaitMs { get; set; } = 2000;

    public ReplanMode ReplanMode { get; set; } = ReplanMode.Blocking;

    /// <summary>Planned blocks executed before replanning (receding horizon k); 0 = the model's planner.receding.</summary>
    public int ExecuteBlocks { get; set; }

    /// <summary>Replanning cycles before the run ends without success.</summary>
    public int MaxSteps { get; set; } = 40;

    /// <summary>
    /// Success when the distance between the observed latent and the (last) goal latent falls below this
    /// (mean squared difference per latent element, the same measure as surprise). Model-specific: the random-weight
    /// example model's latents move by ~3e-5 between visibly different scenes; a trained encoder's by far more.
    /// </summary>
    public double SuccessThreshold { get; set; } = 1e-5;

    /// <summary>Seed of the planner's sampler; each cycle uses Seed + step, so a replay reproduces every plan.</summary>
    public int Seed { get; set; }

    /// <summary>Extra validity granted to a chunk beyond its nominal execution time (ms): a later action is stale.</summary>
    public double ChunkSlackMs { get; set; } = 250;

    /// <summary>
    /// Blocks executed per plan: <see cref="ExecuteBlocks"/>, or the model's receding default (shrunk to fit a shorter
    /// horizon). An explicit value beyond the horizon is refused, naming both: it used to become the horizon silently.
    /// </summary>
    public int BlocksPerCycle(int modelReceding, int horizon)
    {
        if (ExecuteBlocks > horizon)
            throw new ConfigurationValueException($"{SectionName}:ExecuteBlocks", $"0..{horizon} (the planner's horizon; 0: the model's planner.receding)", ExecuteBlocks);
        return Math.Clamp(ExecuteBlocks > 0 ? ExecuteBlocks : modelReceding, 1, horizon);
    }

    public void Validate()
    {
        Require(!string.IsNullOrWhiteSpace(Model), "Model", "a model directory", Model);
        Require(!string.IsNullOrWhiteSpace(Camera), "Camera", "a camera source", Camera);
        _ = CameraSource;
        Require(!string.IsNullOrWhiteSpace(Arm), "Arm", "\"sim\" or an arm profile", Arm);
        Require(CommandRateHz is > 0 and <= 1000, "CommandRateHz", "a rate in (0, 1000] Hz", CommandRateHz);
        Require(MaxFrameAgeMs is > 0 and <= MaxMs, "MaxFrameAgeMs", $"(0, {MaxMs}] ms", MaxFrameAgeMs);
        Require(FrameWaitMs is > 0 and <= MaxMs, "FrameWaitMs", $"(0, {MaxMs}] ms", FrameWaitMs);
        Require(ExecuteBlocks >= 0, "ExecuteBlocks", ">= 0", ExecuteBlocks);
        Require(MaxSteps >= 1, "MaxSteps", ">= 1", MaxSteps);
        Require(SuccessThreshold >= 0 && double.IsFinite(SuccessThreshold), "SuccessThreshold", "a finite value >= 0", SuccessThreshold);
        Require(ChunkSlackMs is >= 0 and <= MaxMs, "ChunkSlackMs", $"[0, {MaxMs}] ms", ChunkSlackMs);
    }

    private CameraSource ParseCamera()
    {
        try
        {
            return CameraSource.Parse(Camera);
        }
        catch (FormatException e)
        {
            throw new ConfigurationValueException($"{SectionName}:Camera: {e.Message}");
        }
    }

    /// <summary>An hour: above it a time setting is a typo (and 1e300 ms overflows a TimeSpan).</summary>
    public const double MaxMs = 3_600_000;

    internal static void Require(bool ok, string key, string expected, object? found, string section = SectionName)
    {
        if (!ok) throw new ConfigurationValueException($"{section}:{key}", expected, found);
    }
}
