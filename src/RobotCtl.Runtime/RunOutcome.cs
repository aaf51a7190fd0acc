namespace RobotCtl.Runtime;

/// <summary>How a run ended. The CLI maps it to its exit code (ExitCodes in the host); the library knows no codes.</summary>
public enum RunOutcome { Success, StepBudgetExhausted, Stopped, Faulted, Cancelled }
