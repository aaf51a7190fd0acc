using RobotCtl.Runtime.Composition;
using Microsoft.Extensions.DependencyInjection;
using RobotCtl.Hardware;
using RobotCtl.Inference.WorldModel;
using RobotCtl.Episodes;
using RobotCtl.Planning;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Runtime;

/// <summary>
/// Everything a replay needs, rebuilt from the episode itself through the same composition as the run
/// (<see cref="RuntimeFactory"/>): the run's recorded settings, its rig calibration (action mapping, limits and the
/// camera calibration the run undistorted with), its model (or another one), and a planner made exactly as the run
/// made it, except that it has no deadline: it replays the recorded iteration counts, so load cannot change a plan.
/// </summary>
public sealed class ReplaySession : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly OnnxWorldModel _model;
    private readonly Preprocessor _preprocessor;
    private readonly LatentPlanner _planner;

    private ReplaySession(ServiceProvider services, string modelDirectory, OnnxWorldModel model, Preprocessor preprocessor,
        LatentPlanner planner, EpisodeReplayer replayer)
    {
        _services = services; ModelDirectory = modelDirectory;
        _model = model; _preprocessor = preprocessor; _planner = planner; Replayer = replayer;
    }

    /// <summary>The run's settings as recorded.</summary>
    public RunSettings Settings => _services.Factory().Settings;

    public RigCalibration Rig => _services.Factory().Rig;

    public string ModelDirectory { get; }

    public EpisodeReplayer Replayer { get; }

    /// <summary>The composition the replay was made from (its settings, rig, arm).</summary>
    public RuntimeFactory Factory => _services.Factory();

    /// <param name="reader">The episode, open: its recorded configuration and the planner settings its plans recorded.</param>
    /// <param name="arm">An arm to re-send the recorded commands to (Runtime:Arm: "sim" or a profile) instead of the recorded one.</param>
    /// <param name="devices">The arms the host provides, for re-sending (null: serial and MQTT only).</param>
    public static ReplaySession Open(EpisodeReader reader, string? modelOverride = null, double tolerance = 1e-5, string? arm = null,
        Devices.DeviceRegistry? devices = null)
    {
        var info = reader.Info;
        // The calibration the run used, by the path it recorded (the recorded settings may name it relative to another home).
        var overrides = new SettingsOverrides { Calibration = info.Calibration, Arm = arm };
        var services = RuntimeServices.Create(ConfigurationJson.Read(info.ConfigurationJson, [.. overrides.ToConfiguration()]), devices: devices);
        OnnxWorldModel? model = null;
        Preprocessor? preprocessor = null;
        try
        {
            var factory = services.Factory();
            var modelDir = RobotCtlHome.Resolve(modelOverride ?? info.Model ?? factory.ModelDirectory);
            model = factory.LoadModel(modelDir);
            preprocessor = factory.CreatePreprocessor(model.Spec);
            // The planner as recorded (every value the run planned with) over the model's defaults, exactly as the run's
            // configured Planner section was; an older episode's from its recorded configuration.
            var settings = factory.Settings;
            var planning = RecordedPlanner(reader) ?? settings.Planner;
            var options = RuntimeBuilder.PlannerOptionsFrom(planning, model.Spec, settings.Runtime.Seed) with { Deadline = null };
            var planner = factory.CreatePlanner(model, options);
            var replayer = new EpisodeReplayer(model, preprocessor, planner, factory.Rig.Mapping,
                settings.Runtime.BlocksPerCycle(model.Spec.Planner.Receding, options.Horizon), tolerance);
            return new ReplaySession(services, modelDir, model, preprocessor, planner, replayer);
        }
        catch
        {
            preprocessor?.Dispose();
            model?.Dispose();
            services.Dispose();
            throw;
        }
    }

    /// <summary>The planner settings of the episode's first plan; null when it planned nothing or recorded none.</summary>
    private static PlannerSettings? RecordedPlanner(EpisodeReader reader) =>
        reader.Plans().FirstOrDefault()?.SettingsJson is { } json ? PlannerSettings.FromRecord(json, $"{reader.Path} plans.settings") : null;

    public void Dispose()
    {
        _planner.Dispose();
        _preprocessor.Dispose();
        _model.Dispose();
        _services.Dispose();
    }
}
