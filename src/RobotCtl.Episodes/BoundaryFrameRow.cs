namespace RobotCtl.Episodes;

// A row as the reader returns it (Ticks: MonotonicClock ticks at the Record call).

/// <summary>
/// A frame the loop captured at block boundary <see cref="Boundary"/> (1..) of step <see cref="Step"/>'s chunk, while
/// the chunk ran, with its latent and (for state models) the arm state then; <see cref="Serial"/>: the executed actions
/// it shows (-1: not told apart).
/// </summary>
public sealed record BoundaryFrameRow(
    long Step, long Ticks, int Boundary, long Serial, long CaptureTicks, long Sequence, int Width, int Height, string Format, byte[] Data,
    int[] LatentShape, float[] Latent, float[] State);
