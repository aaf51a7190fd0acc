namespace RobotCtl.Runtime;

/// <summary>
/// One replayed step: how far the recomputation is from what was recorded (max absolute differences).
/// <see cref="LatentDiff"/> covers the step's frame and the frames captured at block boundaries while its chunk ran;
/// <see cref="ContextFrames"/> is the frames the plan had as context, and <see cref="ContextDiff"/> how far the latents
/// recorded with that context are from those of the frames it names (0: the context is the recorded frames).
/// </summary>
public sealed record ReplayStep(
    long Step, double LatentDiff, double PlanDiff, float RecordedCost, float ReplayedCost, int Iterations,
    double CommandDiff, int CommandsCompared, bool Diverges, int ContextFrames = 1, double ContextDiff = 0);
