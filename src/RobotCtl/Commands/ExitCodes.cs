using RobotCtl.Runtime;

namespace RobotCtl.Host.Commands;

/// <summary>The CLI's exit codes (the README's table), and the one mapping from a run's outcome to its code.</summary>
internal static class ExitCodes
{
    public const int Success = 0, Failed = 1, BadInput = 2, StepBudgetExhausted = 3, Stopped = 4, Faulted = 5, Interrupted = 130;

    public static int Of(RunOutcome outcome) => outcome switch
    {
        RunOutcome.Success => Success,
        RunOutcome.StepBudgetExhausted => StepBudgetExhausted,
        RunOutcome.Stopped => Stopped,
        RunOutcome.Faulted => Faulted,
        RunOutcome.Cancelled => Interrupted,
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "no exit code for this outcome"),
    };
}
