using RobotCtl.Core.Arm;
using RobotCtl.Hardware;

namespace RobotCtl.Runtime.Devices;

/// <summary>Makes an unconnected arm link; <paramref name="profile"/> is null for Runtime:Arm=sim (no profile file).</summary>
public delegate IArmLink ArmProvider(ArmProfile? profile, DeviceContext context);
