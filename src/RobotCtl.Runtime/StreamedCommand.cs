using RobotCtl.Core.Arm;
using RobotCtl.Hardware.Safety;

namespace RobotCtl.Runtime;

/// <summary>What the streamer did on one tick, for the recorder and the console.</summary>
public readonly record struct StreamedCommand(long Tick, long Ticks, long PlanId, int ChunkIndex, EeCommand Requested, GovernedCommand Governed, bool Delivered);
