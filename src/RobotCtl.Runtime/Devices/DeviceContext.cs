using Microsoft.Extensions.Logging;
using RobotCtl.Runtime.Composition;

namespace RobotCtl.Runtime.Devices;

/// <summary>What a camera or arm provider gets: the run's validated settings, its loggers and its shared world.</summary>
public sealed record DeviceContext(RunSettings Settings, ILoggerFactory Loggers, RunWorld World);
