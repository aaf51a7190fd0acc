using RobotCtl.Core.Vision;
using RobotCtl.Sim;
using RobotCtl.Vision.Cameras;

namespace RobotCtl.Runtime.Composition;

/// <summary>
/// Turns a camera source string into an <see cref="ICamera"/>: "sim" is the simulated workcell's rendered view (over
/// the shared workcell when the arm is simulated too, so the camera sees what the arm does); everything else is an
/// OpenCV source (see <see cref="CameraSource.Parse"/>). The camera is returned unstarted.
/// </summary>
public static class CameraFactory
{
    /// <exception cref="FormatException">The source string is not one of the accepted forms.</exception>
    /// <param name="simRenderOnRead">Sim only: render on read (<see cref="SimSyncCamera"/>) instead of on the camera's clock.</param>
    public static ICamera Create(string source, CameraRequest request, SimWorkcell? sharedWorkcell = null,
        SimRenderOptions? simRender = null, double simFps = 30, bool simRenderOnRead = false)
    {
        ArgumentNullException.ThrowIfNull(request);
        var parsed = CameraSource.Parse(source);
        if (parsed.Kind != CameraSourceKind.Sim) return new CaptureCamera(parsed, request);
        var render = simRender ?? SimRenderOptions.Default;
        // A size requested on the command line applies to the rendered view as well.
        if (request.Width is { } w) render = render with { Width = w };
        if (request.Height is { } h) render = render with { Height = h };
        render.Validate();
        if (simRenderOnRead) return new SimSyncCamera(sharedWorkcell ?? new SimWorkcell(), render);
        return new SimCamera(sharedWorkcell ?? new SimWorkcell(), render, request.Fps ?? simFps);
    }
}
