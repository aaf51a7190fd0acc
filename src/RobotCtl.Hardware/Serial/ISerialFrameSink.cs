using RobotCtl.Hardware.Protocol;

namespace RobotCtl.Hardware.Serial;

/// <summary>What a <see cref="SerialTransport"/> reports to its owner (called on the reader thread).</summary>
internal interface ISerialFrameSink
{
    void OnFrame(in DecodedFrame frame, long receivedTicks);
    void OnConnected(string device);
    void OnDisconnected(string device, string reason);
}
