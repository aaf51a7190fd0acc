namespace RobotCtl.Planning;

public enum SolverKind { Cem, Mppi }
