using RobotCtl.Core.Vision;
using RobotCtl.Vision.Cameras;

namespace RobotCtl.Runtime.Devices;

/// <summary>Makes an unstarted camera for a source of the kind it was registered for.</summary>
/// <param name="request">Size and rate asked for on the command line (null fields: the source's own).</param>
public delegate ICamera CameraProvider(CameraSource source, CameraRequest request, DeviceContext context);
