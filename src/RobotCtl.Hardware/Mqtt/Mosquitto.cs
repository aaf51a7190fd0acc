using System.Runtime.InteropServices;

namespace RobotCtl.Hardware.Mqtt;

/// <summary>
/// libmosquitto 2.0 (Debian's libmosquitto1, libmosquitto.so.1), bound from /usr/include/mosquitto.h. Only what the
/// MQTT link and server use. Every call that returns an error code goes through <see cref="Check"/>.
/// </summary>
internal static unsafe partial class Mosquitto
{
    private const string Lib = "libmosquitto.so.1";

    public const int MOSQ_ERR_SUCCESS = 0, MOSQ_ERR_NO_CONN = 4, MOSQ_ERR_CONN_LOST = 7, MOSQ_ERR_ERRNO = 14;
    public const int MOSQ_OPT_PROTOCOL_VERSION = 1, MOSQ_OPT_TCP_NODELAY = 11;
    public const int MQTT_PROTOCOL_V311 = 4;

    /// <summary><c>struct mosquitto_message</c>: int mid; char *topic; void *payload; int payloadlen; int qos; bool retain.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Message
    {
        public int mid;
        public byte* topic;
        public byte* payload;
        public int payloadlen;
        public int qos;
        [MarshalAs(UnmanagedType.U1)] public bool retain;
    }

    [LibraryImport(Lib, EntryPoint = "mosquitto_lib_init")] public static partial int LibInit();
    [LibraryImport(Lib, EntryPoint = "mosquitto_lib_version")] public static partial int LibVersion(int* major, int* minor, int* revision);
    [LibraryImport(Lib, EntryPoint = "mosquitto_new")] public static partial nint New(byte* id, [MarshalAs(UnmanagedType.U1)] bool cleanSession, nint obj);
    [LibraryImport(Lib, EntryPoint = "mosquitto_destroy")] public static partial void Destroy(nint mosq);
    [LibraryImport(Lib, EntryPoint = "mosquitto_int_option")] public static partial int IntOption(nint mosq, int option, int value);
    [LibraryImport(Lib, EntryPoint = "mosquitto_will_set")] public static partial int WillSet(nint mosq, byte* topic, int payloadLength, byte* payload, int qos, [MarshalAs(UnmanagedType.U1)] bool retain);
    [LibraryImport(Lib, EntryPoint = "mosquitto_username_pw_set")] public static partial int UsernamePwSet(nint mosq, byte* username, byte* password);
    [LibraryImport(Lib, EntryPoint = "mosquitto_tls_set")] public static partial int TlsSet(nint mosq, byte* caFile, byte* caPath, byte* certFile, byte* keyFile, nint passwordCallback);
    [LibraryImport(Lib, EntryPoint = "mosquitto_reconnect_delay_set")] public static partial int ReconnectDelaySet(nint mosq, uint delay, uint delayMax, [MarshalAs(UnmanagedType.U1)] bool exponential);
    [LibraryImport(Lib, EntryPoint = "mosquitto_max_inflight_messages_set")] public static partial int MaxInflightMessagesSet(nint mosq, uint max);
    [LibraryImport(Lib, EntryPoint = "mosquitto_connect_async")] public static partial int ConnectAsync(nint mosq, byte* host, int port, int keepalive);
    [LibraryImport(Lib, EntryPoint = "mosquitto_disconnect")] public static partial int Disconnect(nint mosq);
    [LibraryImport(Lib, EntryPoint = "mosquitto_loop_start")] public static partial int LoopStart(nint mosq);
    [LibraryImport(Lib, EntryPoint = "mosquitto_loop_stop")] public static partial int LoopStop(nint mosq, [MarshalAs(UnmanagedType.U1)] bool force);
    [LibraryImport(Lib, EntryPoint = "mosquitto_publish")] public static partial int Publish(nint mosq, int* mid, byte* topic, int payloadLength, byte* payload, int qos, [MarshalAs(UnmanagedType.U1)] bool retain);
    [LibraryImport(Lib, EntryPoint = "mosquitto_subscribe")] public static partial int Subscribe(nint mosq, int* mid, byte* pattern, int qos);
    [LibraryImport(Lib, EntryPoint = "mosquitto_socket")] public static partial int Socket(nint mosq);
    [LibraryImport(Lib, EntryPoint = "mosquitto_connect_callback_set")] public static partial void ConnectCallbackSet(nint mosq, delegate* unmanaged<nint, nint, int, void> callback);
    [LibraryImport(Lib, EntryPoint = "mosquitto_disconnect_callback_set")] public static partial void DisconnectCallbackSet(nint mosq, delegate* unmanaged<nint, nint, int, void> callback);
    [LibraryImport(Lib, EntryPoint = "mosquitto_message_callback_set")] public static partial void MessageCallbackSet(nint mosq, delegate* unmanaged<nint, nint, Message*, void> callback);
    [LibraryImport(Lib, EntryPoint = "mosquitto_publish_callback_set")] public static partial void PublishCallbackSet(nint mosq, delegate* unmanaged<nint, nint, int, void> callback);
    [LibraryImport(Lib, EntryPoint = "mosquitto_strerror")] public static partial byte* StrError(int code);
    [LibraryImport(Lib, EntryPoint = "mosquitto_connack_string")] public static partial byte* ConnackString(int code);

    private static readonly Lazy<int> Initialised = new(() => LibInit());

    /// <summary>mosquitto_lib_init, once per process (never cleaned up: other clients may still live).</summary>
    public static void EnsureInitialised()
    {
        var rc = Initialised.Value;
        if (rc != MOSQ_ERR_SUCCESS) throw new MqttException("mosquitto_lib_init", rc);
    }

    public static string ErrorText(int code)
    {
        var text = Marshal.PtrToStringUTF8((nint)StrError(code)) ?? $"error {code}";
        return code == MOSQ_ERR_ERRNO ? $"{text}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastSystemError())}" : text;
    }

    public static string ConnackText(int code) => Marshal.PtrToStringUTF8((nint)ConnackString(code)) ?? $"connack {code}";

    public static void Check(int rc, string operation)
    {
        if (rc != MOSQ_ERR_SUCCESS) throw new MqttException(operation, rc);
    }
}

/// <summary>A libmosquitto call failed; carries the MOSQ_ERR code and mosquitto_strerror's text.</summary>
public sealed class MqttException : IOException
{
    internal MqttException(string operation, int code) : base($"MQTT {operation} failed: {Mosquitto.ErrorText(code)} (MOSQ_ERR {code})")
    {
        Operation = operation; Code = code;
    }

    public string Operation { get; }
    public int Code { get; }
}

/// <summary>Owns one <c>struct mosquitto*</c>; releasing it stops the network thread and destroys the client.</summary>
internal sealed class SafeMosquittoHandle : SafeHandle
{
    public SafeMosquittoHandle() : base(0, ownsHandle: true) { }

    public override bool IsInvalid => handle == 0;

    internal void Attach(nint mosq) => SetHandle(mosq);

    protected override bool ReleaseHandle()
    {
        Mosquitto.Disconnect(handle);
        Mosquitto.LoopStop(handle, false);
        Mosquitto.Destroy(handle);
        return true;
    }
}
