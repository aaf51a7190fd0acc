namespace RobotCtl.Episodes;

// A row as the reader returns it (Ticks: MonotonicClock ticks at the Record call).

/// <summary>One plan's observed context (<see cref="PlanContextRecord"/>): <see cref="Frames"/> frames, oldest first.</summary>
public sealed record PlanContextRow(
    long Step, long Ticks, int Frames, long[] FrameSteps, int[] FrameBoundaries, long[] Serials, int[] LatentShape,
    int ActionBlock, int ActionDim, int StateDim, float[] Latents, float[] PastActions, float[] States);
