using Microsoft.Extensions.Logging;
using RobotCtl.Core.Vision;
using RobotCtl.Core.WorldModel;
using RobotCtl.Episodes;
using RobotCtl.Hardware;
using RobotCtl.Hardware.Safety;
using RobotCtl.Runtime;
using RobotCtl.Inference.WorldModel;
using RobotCtl.Planning;
using RobotCtl.Runtime.Devices;
using RobotCtl.Vision.Calibration;
using RobotCtl.Vision.Cameras;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Runtime.Composition;

/// <summary>
/// Builds a run for <see cref="RuntimeFactory.BuildRunAsync"/> (the one composition path): turns validated settings
/// into <see cref="RuntimeComponents"/>, in an order that refuses bad input (model, calibration, goal images, camera,
/// arm) before anything moves.
/// </summary>
internal static class RuntimeBuilder
{
    public static async Task<RuntimeComponents> BuildAsync(RuntimeFactory factory, IReadOnlyList<string> goalPaths,
        CancellationToken cancellationToken, RunWorld world, PlannerChoice? planner)
    {
        var settings = factory.Settings;
        var loggers = factory.Loggers;
        var configurationJson = ConfigurationJson.Of(factory.Configuration);
        var log = loggers.CreateLogger("robotctl.runtime");
        var o = settings.Runtime;
        var disposables = new Stack<object>();
        // A sim camera watching a workcell the arm does not move: refused before anything is loaded.
        settings.Safety.CheckCameraMatchesArm(o, factory.ArmIsSimulated, sharedWorkcell: world.SuppliedByCaller);
        try
        {
            // 1. Calibration: action mapping and safety limits (the governor's and the planner's one source of limits).
            var calibrationDir = factory.CalibrationDirectory;
            var rig = factory.Rig;
            var cameraCalibrationPath = factory.CameraCalibrationPath;
            var cameraCalibration = factory.CameraCalibration();

            // 2. The world model: every contract check and a dry run happen in Load.
            var modelDir = factory.ModelDirectory;
            var model = factory.LoadModel(modelDir);
            disposables.Push(model);
            log.LogInformation("model {Name} ({Family}) from {Dir} on {Provider}; {Library}", model.Spec.Name, model.Spec.Family, modelDir, model.Provider, model.Library);
            var preprocessor = new Preprocessor(model.Spec.Image, cameraCalibration);
            disposables.Push(preprocessor);

            // 3. Goals, encoded once.
            var goals = GoalSet.Load(goalPaths.Select(RobotCtlHome.Resolve).ToList(), model, preprocessor);

            // 4. Planner, bounded by the rig's per-step limits in the model's action frame.
            var plannerOptions = factory.PlannerOptions(model.Spec);
            o.BlocksPerCycle(model.Spec.Planner.Receding, plannerOptions.Horizon); // refuses ExecuteBlocks beyond the horizon now, not in the loop
            var bounds = factory.Bounds;
            IPlanner plannerInstance = planner is null
                ? factory.CreatePlanner(model, plannerOptions)
                : planner.Create(new PlannerContext(model, plannerOptions, bounds, rig.Mapping));
            disposables.Push(plannerInstance);
            var plannerName = planner?.Name ?? plannerOptions.Solver.ToString().ToLowerInvariant();
            // Context frames: refused beyond the model's history even for a planner that ignores them (a setting means one thing).
            var contextFrames = factory.ContextFrames(model.Spec);
            if (planner is { UsesContext: false }) contextFrames = 1;
            log.LogInformation("planner {Name}: {Samples} samples, top {TopK}, {Iterations} iterations, horizon {Horizon}, cost shape {CostShape}{LatentWeights}, {ContextFrames} context frame(s){Deadline}",
                plannerName, plannerOptions.Samples, plannerOptions.TopK, plannerOptions.Iterations, plannerOptions.Horizon, plannerOptions.CostShape,
                plannerOptions.LatentWeights is { } lw ? $", latent weights {Core.WorldModel.LatentWeights.Format(lw)}" : "",
                contextFrames, plannerOptions.Deadline is { } dl ? $", deadline {dl.TotalMilliseconds:F0} ms" : "");
            plannerInstance.SetGoal(goals.Latent(0));
            plannerInstance.WarmUp(new PlanInput(goals.Latent(0)) { States = model.Spec.StateDim > 0 ? new float[model.Spec.StateDim] : default });

            // 5. Camera, then arm, from the host's providers (a simulated camera and arm share the world's workcell).
            var camera = factory.CreateCamera(world);
            disposables.Push(camera);
            camera.Start();
            if (cameraCalibration is not null) CheckCalibrationFits(camera, cameraCalibration, cameraCalibrationPath, TimeSpan.FromMilliseconds(o.FrameWaitMs));
            var arm = factory.CreateArmLink(world);
            disposables.Push(arm);
            arm.EventRaised += e => log.LogInformation("arm {Status}: {Message}", e.Status, e.Message);
            await arm.ConnectAsync(cancellationToken).ConfigureAwait(false);

            // 6. Recorder, off the control path.
            EpisodeRecorder? recorder = null;
            if (settings.Recording.Enabled)
            {
                var dir = RobotCtlHome.Resolve(settings.Recording.Directory);
                Directory.CreateDirectory(dir);
                recorder = EpisodeRecorder.Create(dir, new EpisodeMetadata
                {
                    Source = o.CameraIsSim && factory.ArmIsSimulated ? RuntimeOptions.Sim : o.Arm,
                    Model = modelDir,
                    Calibration = calibrationDir,
                    ConfigurationJson = configurationJson,
                    Seed = o.Seed,
                    Goals = goals.Paths,
                }, new VisionFrameEncoder(settings.Recording.FrameFormat, settings.Recording.JpegQuality),
                new EpisodeRecorderOptions { QueueCapacity = settings.Recording.QueueCapacity });
                disposables.Push(recorder);
                // Frames, latents and plans are copied into pooled buffers on the loop thread: fill the pools now, not
                // mid-run (a real camera's first frame resizes the pooled frames once).
                var spec = model.Spec;
                var floatLengths = new List<int> { spec.LatentSize, plannerOptions.Horizon * spec.ActionBlockSize + plannerOptions.Iterations };
                var longLengths = new List<int>();
                if (contextFrames > 1)
                {
                    // Context history: a boundary frame's latent and state, and a plan's context of every length.
                    floatLengths.Add(spec.LatentSize + spec.StateDim);
                    for (var f = 1; f <= contextFrames; f++)
                    {
                        floatLengths.Add(f * (spec.LatentSize + spec.StateDim) + (f - 1) * spec.ActionBlockSize);
                        longLengths.Add(3 * f);
                    }
                }
                recorder.Reserve(settings.Sim.Width, settings.Sim.Height, floatLengths.ToArray(), longLengths: longLengths.ToArray());
                for (var g = 0; g < goals.Count; g++)
                {
                    recorder.RecordGoalImage(g, -1, goals.Images[g]);
                    recorder.RecordLatent(-1 - g, LatentKind.Goal, goals.Latent(g), model.Spec.LatentShape);
                }
                log.LogInformation("recording episode {Id} to {Path}", recorder.Id, recorder.Path);
            }

            // 7. Governor and streamer: the only way a command reaches the arm.
            var governor = factory.CreateGovernor();
            var chunks = new ActionChunkStream(plannerOptions.Horizon * model.Spec.ActionBlock, model.Spec.ActionDim, model.Spec.ActionBlock);
            var recorderRef = recorder;
            var streamer = new CommandStreamer(chunks, governor, arm, rig.Mapping, factory.CommandRateHz,
                loggers.CreateLogger<CommandStreamer>(), recorderRef is null ? null : c => RecordCommand(recorderRef, c));

            // 8. E-stop (the MQTT estop topic here; the local endpoint is the host's) and the link watch.
            var estop = new EStopController(governor, arm, chunks, recorder, loggers.CreateLogger<EStopController>());
            if (arm is Hardware.Links.IEStopSource estopSource) estopSource.EStopRequested += reason => estop.Latch(reason);
            var linkMonitor = new LinkMonitor(arm, TimeSpan.FromMilliseconds(settings.Safety.LinkLossMs), recorder,
                loggers.CreateLogger<LinkMonitor>(), Core.Timing.MonotonicClock.Now);

            return new RuntimeComponents
            {
                Model = model, Preprocessor = preprocessor, Camera = camera, Arm = arm,
                Governor = governor, Mapping = rig.Mapping, Planner = plannerInstance, Chunks = chunks, Streamer = streamer,
                Goals = goals, SurpriseOptions = settings.Surprise, Recorder = recorder,
                EStop = estop, LinkMonitor = linkMonitor, Pause = new OperatorPause(recorder, loggers.CreateLogger<OperatorPause>()),
                PlannerName = plannerName,
                ContextFrames = contextFrames,
                PlannerSettingsJson = PlannerSettings.Of(plannerOptions, contextFrames).ToRecord(),
                PlannerDeadline = plannerOptions.Deadline,
            };
        }
        catch
        {
            while (disposables.Count > 0)
            {
                switch (disposables.Pop())
                {
                    case IAsyncDisposable a: await a.DisposeAsync().ConfigureAwait(false); break;
                    case IDisposable d: d.Dispose(); break;
                }
            }
            throw;
        }
    }

    /// <summary>The model's planner defaults with the configured overrides.</summary>
    public static PlannerOptions PlannerOptionsFrom(PlannerSettings s, Core.WorldModel.WorldModelSpec spec, int seed)
    {
        var options = PlannerOptions.ForModel(spec);
        // The solver brings its own defaults (MPPI's std clamp), so the model's options are rebuilt for it.
        if (s.Solver is { } solver) options = PlannerOptions.ForModel(spec with { Planner = spec.Planner with { Solver = solver.ToString().ToLowerInvariant() } });
        options = options with
        {
            Samples = s.Samples ?? options.Samples,
            TopK = s.TopKFor(options.Samples, options.TopK),
            Iterations = s.Iterations ?? options.Iterations,
            Horizon = s.Horizon ?? options.Horizon,
            InitStd = s.InitStd ?? options.InitStd,
            // An explicit InitStd is the std of every dimension, unless per-dimension stds are given too (a recorded plan).
            InitStdPerDim = s.InitStdPerDim ?? (s.InitStd is null ? options.InitStdPerDim : null),
            WarmStart = s.WarmStart ?? options.WarmStart,
            MeanSample = s.MeanSample ?? options.MeanSample,
            MeanMomentum = s.MeanMomentum ?? options.MeanMomentum,
            StdMomentum = s.StdMomentum ?? options.StdMomentum,
            MinStd = s.MinStd ?? options.MinStd,
            MaxStd = s.MaxStd ?? options.MaxStd,
            Temperature = s.Temperature ?? options.Temperature,
            GripperDeadband = s.GripperDeadband ?? options.GripperDeadband,
            Execute = s.Execute is { } execute ? PlannerOptions.ParseExecute(execute, $"{PlannerSettings.SectionName}:Execute") : options.Execute,
            Elitism = s.Elitism ?? options.Elitism,
            SharedContext = s.SharedContext ?? options.SharedContext,
            RolloutThreads = s.RolloutThreads ?? options.RolloutThreads,
            LatentWeights = string.IsNullOrWhiteSpace(s.LatentWeights) ? options.LatentWeights : Core.WorldModel.LatentWeights.Parse(s.LatentWeights),
            Seed = unchecked((ulong)seed),
            Deadline = s.DeadlineMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
        };
        return options with { CostShape = CostShapeFor(s, spec, options.Horizon) };
    }

    /// <summary>Planner:CostShape, else the manifest's planner.cost_shape; explicit weights must fit the horizon.</summary>
    private static CostShape CostShapeFor(PlannerSettings s, Core.WorldModel.WorldModelSpec spec, int horizon)
    {
        if (s.CostShape is { } text && !string.IsNullOrWhiteSpace(text))
        {
            var shape = CostShape.Parse(text); // already validated by PlannerSettings.Validate
            if (shape.Weights is { } w && w.Count != horizon)
                throw new ConfigurationValueException($"{PlannerSettings.SectionName}:CostShape", $"{horizon} weights (one per horizon step), or last or sum", text);
            return shape;
        }
        var manifest = spec.Planner.CostShape ?? CostShape.Last;
        if (manifest.Weights is { } mw && mw.Count != horizon)
            throw new ConfigurationValueException($"{PlannerSettings.SectionName}:CostShape: model '{spec.Name}' planner.cost_shape has " +
                $"{mw.Count} weights but the horizon is {horizon}; set {PlannerSettings.SectionName}:CostShape to last, sum or {horizon} weights");
        return manifest;
    }

    /// <summary>
    /// A calibration made at another resolution would fail on every frame: refuse it once, at start, with both sizes.
    /// </summary>
    private static void CheckCalibrationFits(ICamera camera, CameraCalibration calibration, string path, TimeSpan wait)
    {
        var frame = new Frame(1, 1);
        var until = Core.Timing.MonotonicClock.Now + Core.Timing.MonotonicClock.FromTimeSpan(wait);
        while (camera.ReadLatest(wait, frame) != FrameReadStatus.Ok)
        {
            if (Core.Timing.MonotonicClock.Now > until) throw new CameraException($"camera {camera.Description}: no frame within {wait.TotalMilliseconds:F0} ms");
            Thread.Sleep(5);
        }
        if (frame.Width != calibration.ImageWidth || frame.Height != calibration.ImageHeight)
            throw new ConfigurationValueException($"{path}: calibrated for {calibration.ImageWidth}x{calibration.ImageHeight} images, " +
                $"but camera {camera.Description} delivers {frame.Width}x{frame.Height}; recalibrate or request that resolution");
    }

    /// <summary>
    /// Every command as sent, under the step of the plan it came from. Arm states are recorded by the loop only, once
    /// per step: the state the plan was made from, which replay feeds back to state-conditioned models.
    /// </summary>
    private static void RecordCommand(EpisodeRecorder recorder, StreamedCommand c) =>
        recorder.RecordCommand(c.PlanId, c.Requested, c.Governed.Command, (int)c.Governed.Flags,
            c.Governed.Flags == GovernorFlags.None ? null : c.Governed.Reason);
}
