namespace RobotCtl.Planning;

/// <summary>What a plan executes: the best sample scored, or the final sampling mean (stable-worldmodel's CEM).</summary>
public enum PlanExecute { Best, Mean }
