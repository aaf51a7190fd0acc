namespace RobotCtl.Runtime;

/// <summary>One line of progress for the console.</summary>
public readonly record struct CycleReport(
    int Step, int GoalIndex, int GoalCount, double GoalDistance, double PlanMs, int Iterations, bool StoppedByDeadline,
    float PlanCost, double Surprise, double SurpriseRatio, SurpriseAction SurpriseAction, double CycleMs);
