namespace RobotCtl.Hardware.Mqtt;

/// <summary>What an <see cref="MqttConnection"/> reports (on MQTTnet's receive loop or the connection's reconnect loop).</summary>
internal interface IMqttSink
{
    void OnConnected();
    void OnConnectionLost(string reason);
    /// <summary><paramref name="topicIndex"/> indexes the subscriptions given to the connection.</summary>
    void OnMessage(int topicIndex, ReadOnlySpan<byte> payload, bool retained);
}
