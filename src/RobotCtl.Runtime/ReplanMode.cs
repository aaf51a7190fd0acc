namespace RobotCtl.Runtime;

public enum ReplanMode { Blocking, Overlapped }
