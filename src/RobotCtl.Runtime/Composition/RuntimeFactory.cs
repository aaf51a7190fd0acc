using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using RobotCtl.Core.WorldModel;
using RobotCtl.Core.Arm;
using RobotCtl.Hardware;
using RobotCtl.Hardware.Safety;
using RobotCtl.Inference.WorldModel;
using RobotCtl.Planning;
using RobotCtl.Core.Vision;
using RobotCtl.Runtime.Devices;
using RobotCtl.Vision.Calibration;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Runtime.Composition;

/// <summary>
/// The one composition path. Every command that touches a model (run, demo, plan, replay, eval) and any host (the
/// dashboard) gets its pieces here, from the same validated settings, by the same code: the rig calibration (action
/// mapping and limits), the world model (with the Inference settings), the preprocessor (with the camera calibration
/// whenever the run used one), the planner (bounded by the rig's limits) and a whole run.
/// </summary>
public sealed class RuntimeFactory
{
    private readonly Lazy<RigCalibration> _rig;
    private readonly Lazy<ArmProfile?> _armProfile;
    private readonly ILogger _log;

    public RuntimeFactory(IConfiguration configuration, RunSettings settings, ILoggerFactory loggers, DeviceRegistry devices)
    {
        Configuration = configuration;
        Settings = settings;
        Loggers = loggers;
        Devices = devices;
        _log = loggers.CreateLogger("robotctl.runtime");
        CalibrationDirectory = RobotCtlHome.Resolve(settings.Runtime.Calibration);
        _armProfile = new Lazy<ArmProfile?>(() => settings.Runtime.ArmIsSim ? null : ArmProfile.Load(ResolveProfile(settings.Runtime.Arm)));
        _rig = new Lazy<RigCalibration>(LoadRig);
    }

    public IConfiguration Configuration { get; }

    /// <summary>Every settings section, bound and validated when the services were created.</summary>
    public RunSettings Settings { get; }

    public ILoggerFactory Loggers { get; }

    /// <summary>The cameras and arms this host can open (filled by the host).</summary>
    public DeviceRegistry Devices { get; }

    public string CalibrationDirectory { get; }

    /// <summary>
    /// The rig's action mapping and safety limits (loaded and range-checked on first use), with the arm profile's
    /// watchdog when it sets one.
    /// </summary>
    public RigCalibration Rig => _rig.Value;

    /// <summary>The arm profile Runtime:Arm names (under hardware/profiles/ or a file); null for the in-process sim arm.</summary>
    public ArmProfile? ArmProfile => _armProfile.Value;

    /// <summary>Whether the arm is the simulated workcell (in process, or a profile with transport sim).</summary>
    public bool ArmIsSimulated => ArmProfile is null || ArmProfile.Transport == ArmTransport.Sim;

    /// <summary>The streamer's rate: Runtime:CommandRateHz, never above the arm profile's commandRateHz.</summary>
    public double CommandRateHz => ArmProfile is { } p ? Math.Min(Settings.Runtime.CommandRateHz, p.CommandRateHz) : Settings.Runtime.CommandRateHz;

    /// <summary>The configured model directory (Runtime:Model), resolved against the home.</summary>
    public string ModelDirectory => RobotCtlHome.Resolve(Settings.Runtime.Model);

    /// <summary>Loads the world model (every contract check and a dry run happen here) with the Inference settings.</summary>
    public OnnxWorldModel LoadModel(string? directory = null) =>
        OnnxWorldModel.Load(directory ?? ModelDirectory, Settings.Inference, w => _log.LogWarning("{Warning}", w));

    /// <summary>
    /// The camera calibration a run with these settings undistorts with: calibration/…/camera.json for a real camera,
    /// none for the simulated one (its images are ideal). A file that is there is read and checked either way: a broken
    /// one is refused now, not on the first run with a real camera.
    /// </summary>
    public CameraCalibration? CameraCalibration()
    {
        var path = CameraCalibrationPath;
        if (!File.Exists(path)) return null;
        var calibration = Vision.Calibration.CameraCalibration.Load(path);
        return Settings.Runtime.CameraIsSim ? null : calibration;
    }

    public string CameraCalibrationPath => Path.Combine(CalibrationDirectory, "camera.json");

    /// <summary>The model's preprocessing (size, scale, normalisation) after the run's camera calibration.</summary>
    public Preprocessor CreatePreprocessor(WorldModelSpec spec) => new(spec.Image, CameraCalibration());

    /// <summary>The model's planner defaults with the configured Planner overrides.</summary>
    public PlannerOptions PlannerOptions(WorldModelSpec spec) => RuntimeBuilder.PlannerOptionsFrom(Settings.Planner, spec, Settings.Runtime.Seed);

    /// <summary>
    /// Planner:ContextFrames for <paramref name="spec"/>: the observed frames a plan gets as context, 1..predictor.history
    /// (when not set: the model's planner.context_frames, else its history); out of range is refused naming the key.
    /// </summary>
    public int ContextFrames(WorldModelSpec spec) => Settings.Planner.ContextFramesFor(spec.History, spec.Name, spec.Planner.ContextFrames);

    /// <summary>The rig's per-step limits in the model's action frame: what every planner samples within.</summary>
    public ActionBounds Bounds => ActionBounds.FromLimits(Rig.Limits, Rig.Mapping);

    /// <summary>The world model's planner, bounded by the rig's limits.</summary>
    public LatentPlanner CreatePlanner(IWorldModel model, PlannerOptions? options = null) =>
        new(model, options ?? PlannerOptions(model.Spec), Bounds);

    private RigCalibration LoadRig()
    {
        var rig = RigCalibration.Load(CalibrationDirectory);
        var limitsFile = Path.Combine(CalibrationDirectory, "limits.json");
        if (ArmProfile is { } profile)
        {
            // The profile names the rig it was set up for; planning and governing with another rig's limits is refused.
            var rigName = Path.GetFileName(Path.TrimEndingDirectorySeparator(CalibrationDirectory));
            if (!string.Equals(rigName, profile.Rig, StringComparison.Ordinal))
                throw new ConfigurationValueException($"arm profile {profile.Name} is for rig '{profile.Rig}', but Runtime:Calibration is {CalibrationDirectory} " +
                    $"(rig '{rigName}'); pass --calibration calibration/{profile.Rig} or correct the profile's \"rig\"");
            if (profile.Watchdog is { } watchdog) rig = rig with { Limits = rig.Limits with { CommandWatchdog = watchdog } };
            if (profile.CommandRateHz > rig.Limits.MaxRateHz)
                throw new ConfigurationValueException($"arm profile {profile.Name}: commandRateHz {profile.CommandRateHz} exceeds the rig's maxRateHz {rig.Limits.MaxRateHz} ({limitsFile})");
        }
        // The governor refuses commands faster than maxRateHz: a faster stream would be refused tick after tick.
        if (Settings.Runtime.CommandRateHz > rig.Limits.MaxRateHz)
            throw new ConfigurationValueException("Runtime:CommandRateHz", $"a rate <= the rig's maxRateHz {rig.Limits.MaxRateHz} ({limitsFile})", Settings.Runtime.CommandRateHz);
        return rig;
    }

    private static string ResolveProfile(string arm)
    {
        if (File.Exists(arm)) return Path.GetFullPath(arm);
        var named = Path.Combine(RobotCtlHome.Path, "hardware", "profiles", arm.EndsWith(".json", StringComparison.Ordinal) ? arm : arm + ".json");
        if (File.Exists(named)) return named;
        throw new ConfigurationValueException("Runtime:Arm", "\"sim\", a profile name under hardware/profiles/ or a profile file", arm);
    }

    /// <summary>The arm link Runtime:Arm names (unconnected), from the host's <see cref="Devices"/>, in <paramref name="world"/>.</summary>
    public IArmLink CreateArmLink(RunWorld world) => Devices.CreateArm(ArmProfile, new DeviceContext(Settings, Loggers, world));

    /// <summary>The camera Runtime:Camera names (unstarted), from the host's <see cref="Devices"/>, in <paramref name="world"/>.</summary>
    public ICamera CreateCamera(RunWorld world, Vision.Cameras.CameraRequest? request = null) =>
        Devices.CreateCamera(Settings.Runtime.CameraSource, request ?? new(), new DeviceContext(Settings, Loggers, world));

    /// <summary>
    /// The safety governor over the rig's limits (the profile's watchdog included). The in-process sim arm applies a
    /// command inside TrySend and stamps its state when read, so no command is ever in flight behind a state and the
    /// governor need not distrust recent ones; a remote link keeps the default latency.
    /// </summary>
    public SafetyGovernor CreateGovernor() =>
        new(Rig.Limits, ArmIsSimulated ? new SafetyGovernorOptions { StateLatency = TimeSpan.Zero } : SafetyGovernorOptions.Default,
            Loggers.CreateLogger<SafetyGovernor>());

    /// <summary>
    /// A whole run: model, preprocessor, goals, camera, arm, recorder, governor, streamer, in an order that refuses
    /// bad input before anything moves.
    /// </summary>
    /// <param name="world">What the run's camera and arm share, with anything the caller supplies (eval's episode workcell,
    /// a test's workcell served over a real transport); null: a new one.</param>
    /// <param name="planner">A planner instead of the world model's (eval's baselines); null = the model's.</param>
    public Task<RuntimeComponents> BuildRunAsync(IReadOnlyList<string> goalPaths, CancellationToken cancellationToken,
        RunWorld? world = null, PlannerChoice? planner = null) =>
        RuntimeBuilder.BuildAsync(this, goalPaths, cancellationToken, world ?? new RunWorld(), planner);
}
