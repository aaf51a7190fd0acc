namespace RobotCtl.Runtime;

/// <summary>How a run ended; the CLI's exit code follows from it.</summary>
public enum RunOutcome { Success = 0, StepBudgetExhausted = 3, Stopped = 4, Faulted = 5, Cancelled = 130 }
