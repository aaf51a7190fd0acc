namespace RobotCtl.Core.WorldModel;

public enum CostShapeKind { Last, Sum, Weights }
