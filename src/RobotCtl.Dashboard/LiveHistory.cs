namespace RobotCtl.Dashboard;

/// <summary>The charts' series, oldest first; null where a value was not finite (no surprise before the first prediction).</summary>
public sealed record LiveHistory(long Version, int[] Steps, double?[] Distance, double?[] PlanMs, double?[] Surprise, float[][] Actions, float[] LastPlanCosts);
