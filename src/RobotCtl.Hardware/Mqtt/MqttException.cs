namespace RobotCtl.Hardware.Mqtt;

/// <summary>Setting up or running the MQTT client failed; says what and why (the file, the broker, the reason).</summary>
public sealed class MqttException : IOException
{
    internal MqttException(string operation, string detail, Exception? inner = null) : base($"MQTT {operation} failed: {detail}", inner)
    {
        Operation = operation; Detail = detail;
    }

    public string Operation { get; }
    public string Detail { get; }
}
