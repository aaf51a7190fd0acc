namespace RobotCtl.Runtime;

/// <summary>
/// Where a taken action came from: its plan, its index in the chunk, the capture time of the plan's frame, and its
/// serial in the execution log (0 when nothing was taken).
/// </summary>
public readonly record struct ChunkPosition(long PlanId, int Index, long SourceTicks, long Serial = 0);
