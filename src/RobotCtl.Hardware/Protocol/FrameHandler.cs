namespace RobotCtl.Hardware.Protocol;

public delegate void FrameHandler<in TState>(TState state, DecodedFrame frame);
