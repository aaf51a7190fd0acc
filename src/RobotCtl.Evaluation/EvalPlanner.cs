namespace RobotCtl.Evaluation;

/// <summary>Which planner an eval puts in the loop: the world model's, the oracle on the sim's true state, or chance.</summary>
public enum EvalPlanner { Model, Oracle, Random }
