using RobotCtl.Core.Vision;
using RobotCtl.Hardware;
using RobotCtl.Runtime.Devices;
using RobotCtl.Vision.Cameras;

namespace RobotCtl.Sim.Devices;

/// <summary>
/// The simulated workcell as a camera and an arm: both providers use the run's one <see cref="SimWorkcell"/> (the
/// caller's, or one made from Sim:Scene), so the camera sees what the arm does.
/// </summary>
public static class SimDevices
{
    public static DeviceRegistry AddSimWorkcell(this DeviceRegistry registry) => registry
        .AddCamera(CameraSourceKind.Sim, CreateCamera)
        .AddArm(ArmTransport.Sim, (_, context) => new SimArmLink(Workcell(context)));

    /// <summary>The run's workcell: the one the caller put in its world, else a new one from Sim:Scene.</summary>
    public static SimWorkcell Workcell(DeviceContext context) =>
        context.World.Shared(() => new SimWorkcell(SimSceneOptions.Parse(context.Settings.Sim.Scene)));

    private static ICamera CreateCamera(CameraSource source, CameraRequest request, DeviceContext context)
    {
        var sim = context.Settings.Sim;
        // A size requested on the command line applies to the rendered view as well.
        var render = new SimRenderOptions { Width = request.Width ?? sim.Width, Height = request.Height ?? sim.Height };
        render.Validate();
        return sim.RenderOnRead
            ? new SimSyncCamera(Workcell(context), render)
            : new SimCamera(Workcell(context), render, request.Fps ?? sim.Fps);
    }
}
