namespace RobotCtl.Core.WorldModel;

public enum LatentCost { Mse, L1 }
