namespace RobotCtl.Hardware.Protocol;

/// <summary>Message types of wire protocol version 1 (hardware/PROTOCOL.md).</summary>
public enum MessageType : byte
{
    Command = 0x01,
    State = 0x02,
    Heartbeat = 0x03,
    Error = 0x04,
    EStop = 0x05,
    Rearm = 0x06,
}
