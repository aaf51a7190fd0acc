namespace RobotCtl.Hardware;

public enum ArmTransport { Serial, Mqtt, Sim }
