using System.CommandLine;
using System.Text.Json;
using RobotCtl.Core.Timing;
using RobotCtl.Core.Vision;
using RobotCtl.Runtime.Composition;
using RobotCtl.Runtime;
using RobotCtl.Sim;
using RobotCtl.Vision;
using RobotCtl.Vision.Calibration;
using RobotCtl.Vision.Cameras;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Host.Commands;

/// <summary>
/// `robotctl snapshot`: one fresh frame from a camera, saved losslessly (PNG) at the camera's resolution as a goal
/// image, with a JSON sidecar (same name, .json) saying when, from what, at what size and with which calibration.
/// The image is saved raw: undistortion and cropping happen in preprocessing, identically for goals and live frames.
/// </summary>
internal static class SnapshotCommand
{
    public static Command Create()
    {
        var camera = new Option<string>("--camera")
        {
            Description = "Camera source: /dev/videoN or an index (V4L2), a video file, a directory of images, rtsp://..., " +
                          "gst:<pipeline ending in appsink>, or sim (the simulated workcell's view)",
            Required = true,
        };
        var output = new Option<string>("--out") { Description = "Where to save the PNG (a .json sidecar goes next to it)", Required = true };
        var width = new Option<int?>("--width") { Description = "Requested frame width (a device may pick the nearest it has)" };
        var height = new Option<int?>("--height") { Description = "Requested frame height" };
        var fps = new Option<double?>("--fps") { Description = "Requested frame rate" };
        var fourcc = new Option<string?>("--fourcc") { Description = "Requested pixel format, e.g. MJPG or YUYV" };
        var warmup = new Option<int>("--warmup-frames")
        {
            Description = "Frames to let pass before taking one (auto exposure and white balance settle)", DefaultValueFactory = _ => 5,
        };
        var maxAge = new Option<int>("--max-age-ms") { Description = "Refuse a frame older than this", DefaultValueFactory = _ => 500 };
        var timeout = new Option<int>("--timeout-ms") { Description = "Give up when no fresh frame arrives within this", DefaultValueFactory = _ => 10_000 };
        var calibration = new Option<string?>("--calibration")
        {
            Description = "camera.json of this camera, recorded in the sidecar (its image size must match the snapshot)",
        };
        var simScene = new Option<string?>("--sim-scene") { Description = "--camera sim: scene string (default: configuration Sim:Scene), e.g. seed=3" };
        var simView = new Option<string?>("--sim-view") { Description = "--camera sim: view string, e.g. view=oblique,size=320x240" };

        var command = new Command("snapshot",
            "Take one fresh frame from a camera and save it as a goal image (PNG, the camera's resolution) with a JSON sidecar.");
        foreach (var o in new Option[] { camera, output, width, height, fps, fourcc, warmup, maxAge, timeout, calibration, simScene, simView })
            command.Options.Add(o);

        command.SetAction(r =>
        {
            try
            {
                return Run(new SnapshotRequest(
                    r.GetValue(camera)!, r.GetValue(output)!, new CameraRequest
                    {
                        Width = r.GetValue(width), Height = r.GetValue(height), Fps = r.GetValue(fps), FourCC = r.GetValue(fourcc),
                        Pacing = PlaybackPacing.SourceRate,
                    },
                    r.GetValue(warmup), r.GetValue(maxAge), r.GetValue(timeout), r.GetValue(calibration), r.GetValue(simScene), r.GetValue(simView)));
            }
            catch (CameraException e)
            {
                return CliErrors.Fail("snapshot", e, exitCode: ExitCodes.Failed);
            }
            catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException or IOException
                                          or UnauthorizedAccessException or VisionException)
            {
                return CliErrors.Fail("snapshot", e);
            }
        });
        return command;
    }

    private sealed record SnapshotRequest(
        string Source, string Output, CameraRequest Camera, int WarmupFrames, int MaxAgeMs, int TimeoutMs,
        string? Calibration, string? SimScene, string? SimView);

    private static int Run(SnapshotRequest q)
    {
        if (q.WarmupFrames is < 0 or > 1000) throw new ArgumentException($"--warmup-frames: expected 0..1000 (a camera settles within seconds), found {q.WarmupFrames}");
        if (q.MaxAgeMs <= 0) throw new ArgumentException($"--max-age-ms: expected a positive number, found {q.MaxAgeMs}");
        if (q.TimeoutMs <= 0) throw new ArgumentException($"--timeout-ms: expected a positive number, found {q.TimeoutMs}");
        if (!q.Output.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"--out: snapshots are saved losslessly as PNG; expected a .png path, found '{q.Output}'");
        OutputPaths.RequireWritableFile("--out", q.Output, createParent: true);
        // Named here: the camera request's own check says only "camera size".
        // 8192 is the simulated camera's own limit and beyond any camera robotctl drives (an 8K sensor is 7680 wide).
        if (q.Camera.Width is <= 0 or > 8192) throw new ArgumentException($"--width: expected 1..8192 pixels, found {q.Camera.Width}");
        if (q.Camera.Height is <= 0 or > 8192) throw new ArgumentException($"--height: expected 1..8192 pixels, found {q.Camera.Height}");
        if (q.Camera.Fps is { } fps && !(fps is > 0 and <= 1000)) throw new ArgumentException($"--fps: expected a rate in (0, 1000] frames per second, found {fps}");
        q.Camera.Validate();
        // A missing file is bad input (exit 2), not a camera that failed to deliver (exit 1).
        if (CliErrors.IsMissingLocalPath(q.Source)) throw new ArgumentException($"--camera {q.Source}: no such video file or image directory");
        if (q.Calibration is not null && RobotCtlHome.Resolve(q.Calibration) is var cal && !File.Exists(cal))
            throw new ArgumentException(Directory.Exists(cal) ? $"--calibration {q.Calibration}: is a directory, expected the camera's camera.json"
                                                              : $"--calibration {q.Calibration}: file not found ({cal})");
        var source = CameraSource.Parse(q.Source);
        var calibrationPath = q.Calibration is null ? null : RobotCtlHome.Resolve(q.Calibration);
        var cameraCalibration = calibrationPath is null ? null : CameraCalibration.Load(calibrationPath);

        SimSceneOptions? scene = null;
        SimRenderOptions? view = null;
        ICamera cam;
        if (source.Kind == CameraSourceKind.Sim)
        {
            var sim = AppConfiguration.Bind<SimOptions>(AppConfiguration.Build(), SimOptions.SectionName);
            scene = SimSceneOptions.Parse(q.SimScene ?? sim.Scene);
            view = SimRenderOptions.Parse(q.SimView ?? "", new SimRenderOptions { Width = sim.Width, Height = sim.Height });
            // A size requested on the command line applies to the rendered view as well.
            view = view with { Width = q.Camera.Width ?? view.Width, Height = q.Camera.Height ?? view.Height };
            view.Validate();
            cam = new SimCamera(new SimWorkcell(scene), view, q.Camera.Fps ?? sim.Fps);
        }
        else
        {
            if (q.SimScene is not null || q.SimView is not null) throw new ArgumentException("--sim-scene and --sim-view apply only to --camera sim");
            cam = new CaptureCamera(source, q.Camera);
        }

        using (cam)
        {
            cam.Start();
            var frame = new Frame(1, 1);
            var status = TakeFreshFrame(cam, frame, q);
            if (status != FrameReadStatus.Ok)
            {
                var reason = cam switch
                {
                    CaptureCamera { State: CameraState.Ended } c => $": the recording ended after {c.FramesCaptured} frames (--warmup-frames is {q.WarmupFrames})",
                    CaptureCamera { LastError: { } error } => $": {error}",
                    _ => "",
                };
                Console.Error.WriteLine($"robotctl snapshot: camera: {cam.Description}: no fresh frame within {q.TimeoutMs} ms " +
                                        $"(last status {status}, {cam.FramesCaptured} frames captured){reason}");
                return ExitCodes.Failed;
            }
            var ageMs = MonotonicClock.ElapsedMs(frame.CaptureTicks);
            if (cameraCalibration is not null && (cameraCalibration.ImageWidth != frame.Width || cameraCalibration.ImageHeight != frame.Height))
                throw new ArgumentException(
                    $"--calibration {calibrationPath} is for {cameraCalibration.ImageWidth}x{cameraCalibration.ImageHeight} images, " +
                    $"the camera delivers {frame.Width}x{frame.Height}");

            var output = Path.GetFullPath(q.Output);
            ImageIo.SavePng(output, frame);
            var sidecar = Path.ChangeExtension(output, ".json");
            File.WriteAllText(sidecar, JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["image"] = Path.GetFileName(output),
                ["timeUtc"] = DateTime.UtcNow.ToString("O"),
                ["source"] = source.ToString(),
                ["camera"] = cam.Description,
                ["width"] = frame.Width,
                ["height"] = frame.Height,
                ["sequence"] = frame.Sequence,
                ["captureAgeMs"] = Math.Round(ageMs, 2),
                ["calibration"] = calibrationPath,
                ["simScene"] = scene?.ToSceneString(),
                ["simView"] = view is null ? null : q.SimView ?? "",
            }, new JsonSerializerOptions { WriteIndented = true }) + Environment.NewLine);
            Console.WriteLine($"robotctl snapshot: saved {output} ({frame.Width}x{frame.Height}, frame {frame.Sequence} of {cam.Description}) and {sidecar}");
            return 0;
        }
    }

    /// <summary>Lets the warm-up frames pass, then waits for a frame no older than --max-age-ms that is not frozen.</summary>
    private static FrameReadStatus TakeFreshFrame(ICamera camera, Frame frame, SnapshotRequest q)
    {
        var deadline = MonotonicClock.Now + MonotonicClock.FromTimeSpan(TimeSpan.FromMilliseconds(q.TimeoutMs));
        var maxAge = TimeSpan.FromMilliseconds(q.MaxAgeMs);
        var status = FrameReadStatus.NoFrame;
        while (MonotonicClock.Now < deadline)
        {
            if (camera.FramesCaptured > q.WarmupFrames)
            {
                status = camera.ReadLatest(maxAge, frame);
                if (status == FrameReadStatus.Ok) return status;
            }
            if (camera is CaptureCamera { State: CameraState.Failed or CameraState.Ended })
                return camera.FramesCaptured > q.WarmupFrames ? camera.ReadLatest(maxAge, frame) : FrameReadStatus.Failed;
            Thread.Sleep(5);
        }
        return status;
    }
}
