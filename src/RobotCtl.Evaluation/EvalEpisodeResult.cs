namespace RobotCtl.Evaluation;

/// <summary>
/// One evaluated episode. <see cref="Steps"/>: commands executed when success was first observed (checked once per
/// control cycle, so a multiple of the commands per cycle), null when not reached. Errors are the task's, on the
/// sim's true state at the start (<see cref="StartErrorMetres"/>: how far the task asks to go) and at the end.
/// </summary>
public sealed record EvalEpisodeResult(
    int Index, bool Success, int? Steps, double StartErrorMetres, double FinalErrorMetres, double? YawErrorRadians, int Cycles, string Outcome,
    IReadOnlyList<double> PlanMs, double WallSeconds);
