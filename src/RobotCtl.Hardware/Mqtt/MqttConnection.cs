using System.Runtime.InteropServices;
using System.Text;
using RobotCtl.Hardware.Links;
using RobotCtl.Hardware.Serial;

namespace RobotCtl.Hardware.Mqtt;

/// <summary>What an <see cref="MqttConnection"/> reports (on libmosquitto's network thread).</summary>
internal interface IMqttSink
{
    void OnConnected();
    void OnConnectionLost(string reason);
    /// <summary><paramref name="topicIndex"/> indexes the subscriptions given to the connection.</summary>
    void OnMessage(int topicIndex, ReadOnlySpan<byte> payload, bool retained);
}

/// <summary>
/// One libmosquitto client with its own network thread (loop_start), MQTT 3.1.1, TCP_NODELAY, clean session,
/// automatic reconnect with exponential backoff, subscriptions renewed on every connect. Callbacks arrive through
/// UnmanagedCallersOnly function pointers with a GCHandle to this object as libmosquitto's user data.
/// Publishing never queues: while disconnected, or with <see cref="MaxOutstanding"/> QoS&gt;0 messages unacknowledged,
/// <see cref="TryPublish"/> returns false instead of handing libmosquitto a message it would hold back and send late.
/// </summary>
internal sealed unsafe class MqttConnection : IDisposable
{
    public const int MaxOutstanding = 8;

    private readonly MqttLinkOptions _options;
    private readonly IMqttSink _sink;
    private readonly byte[][] _subscriptions;
    private readonly int[] _subscriptionQos;
    private readonly SafeMosquittoHandle _handle = new();
    private readonly CancellationTokenSource _stop = new();
    private Thread? _starter;
    private GCHandle _self;
    private volatile bool _connected, _disposed, _refused;
    private int _outstanding;
    private volatile string _lastError = "not connected yet";
    private long _connects;

    /// <param name="subscriptionQos">QoS per subscription (same order); null: the options' QoS for every one.</param>
    public MqttConnection(MqttLinkOptions options, string clientId, IReadOnlyList<string> subscriptions, (string Topic, string Payload)? will, IMqttSink sink,
        IReadOnlyList<int>? subscriptionQos = null)
    {
        options.Validate();
        _options = options;
        _sink = sink;
        _subscriptions = subscriptions.Select(Utf8Z).ToArray();
        _subscriptionQos = subscriptionQos?.ToArray() ?? Enumerable.Repeat(options.Qos, _subscriptions.Length).ToArray();
        if (_subscriptionQos.Length != _subscriptions.Length) throw new ArgumentException("one QoS per subscription", nameof(subscriptionQos));
        Mosquitto.EnsureInitialised();
        _self = GCHandle.Alloc(this);
        fixed (byte* id = Utf8Z(clientId))
        {
            var mosq = Mosquitto.New(id, true, GCHandle.ToIntPtr(_self));
            if (mosq == 0) { _self.Free(); throw new MqttException("mosquitto_new", Marshal.GetLastSystemError() == 12 ? 1 : 3); }
            _handle.Attach(mosq);
        }
        var m = _handle.DangerousGetHandle();
        Mosquitto.Check(Mosquitto.IntOption(m, Mosquitto.MOSQ_OPT_PROTOCOL_VERSION, Mosquitto.MQTT_PROTOCOL_V311), "set protocol version");
        Mosquitto.Check(Mosquitto.IntOption(m, Mosquitto.MOSQ_OPT_TCP_NODELAY, 1), "set TCP_NODELAY");
        if (will is { } w)
        {
            fixed (byte* topic = Utf8Z(w.Topic))
            fixed (byte* payload = Encoding.UTF8.GetBytes(w.Payload))
                Mosquitto.Check(Mosquitto.WillSet(m, topic, Encoding.UTF8.GetByteCount(w.Payload), payload, 1, true), "set last will");
        }
        if (options.Username is not null)
        {
            fixed (byte* user = Utf8Z(options.Username))
            fixed (byte* pass = options.Password is null ? null : Utf8Z(options.Password))
                Mosquitto.Check(Mosquitto.UsernamePwSet(m, user, pass), "set username/password");
        }
        if (options.TlsCaFile is not null)
        {
            fixed (byte* ca = Utf8Z(options.TlsCaFile))
            fixed (byte* cert = options.TlsCertFile is null ? null : Utf8Z(options.TlsCertFile))
            fixed (byte* key = options.TlsKeyFile is null ? null : Utf8Z(options.TlsKeyFile))
                Mosquitto.Check(Mosquitto.TlsSet(m, ca, null, cert, key, 0), $"set TLS (CA {options.TlsCaFile})");
        }
        Mosquitto.Check(Mosquitto.ReconnectDelaySet(m, (uint)options.ReconnectInitialDelay.TotalSeconds, (uint)options.ReconnectMaxDelay.TotalSeconds, true), "set reconnect delay");
        Mosquitto.Check(Mosquitto.MaxInflightMessagesSet(m, MaxOutstanding * 2), "set max inflight");
        Mosquitto.ConnectCallbackSet(m, &OnConnectThunk);
        Mosquitto.DisconnectCallbackSet(m, &OnDisconnectThunk);
        Mosquitto.MessageCallbackSet(m, &OnMessageThunk);
        Mosquitto.PublishCallbackSet(m, &OnPublishThunk);
    }

    public bool IsConnected => _connected;
    public string LastError => _lastError;
    public long Connects => Interlocked.Read(ref _connects);
    public string Endpoint => $"{_options.Host}:{_options.Port}";

    /// <summary>
    /// Starts connecting. Once the first attempt gets through, libmosquitto's network thread takes over and
    /// reconnects on its own after later losses. libmosquitto does not retry a first attempt that fails outright
    /// (broker not up yet), so those are retried here with the same exponential backoff.
    /// </summary>
    public void Start()
    {
        if (TryFirstConnect()) return;
        _starter = new Thread(() =>
        {
            var delay = _options.ReconnectInitialDelay;
            while (!_stop.Token.WaitHandle.WaitOne(delay))
            {
                if (TryFirstConnect()) return;
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.ReconnectMaxDelay.Ticks));
            }
        }) { IsBackground = true, Name = "mqtt-first-connect" };
        _starter.Start();
    }

    private bool TryFirstConnect()
    {
        var m = _handle.DangerousGetHandle();
        int rc;
        fixed (byte* host = Utf8Z(_options.Host))
            rc = Mosquitto.ConnectAsync(m, host, _options.Port, _options.KeepAliveSeconds);
        if (rc != Mosquitto.MOSQ_ERR_SUCCESS)
        {
            _lastError = $"connect to {Endpoint}: {Mosquitto.ErrorText(rc)}";
            return false;
        }
        Mosquitto.Check(Mosquitto.LoopStart(m), "start network thread");
        return true;
    }

    /// <summary>Publishes now or returns false (not connected, too many unacknowledged, or the client refused).</summary>
    public bool TryPublish(byte[] topicZ, ReadOnlySpan<byte> payload, int qos, bool retain)
    {
        if (!_connected || _disposed) return false;
        if (qos > 0 && Interlocked.Increment(ref _outstanding) > MaxOutstanding)
        {
            Interlocked.Decrement(ref _outstanding);
            return false;
        }
        int rc;
        fixed (byte* t = topicZ)
        fixed (byte* p = payload)
            rc = Mosquitto.Publish(_handle.DangerousGetHandle(), null, t, payload.Length, p, qos, retain);
        if (rc == Mosquitto.MOSQ_ERR_SUCCESS) return true;
        if (qos > 0) Interlocked.Decrement(ref _outstanding);
        _lastError = $"publish: {Mosquitto.ErrorText(rc)}";
        return false;
    }

    /// <summary>
    /// Test aid that imitates a crash: the socket is shut down under libmosquitto without a DISCONNECT packet, so the
    /// broker publishes the last will; reconnecting is then put off for an hour.
    /// </summary>
    internal void AbortWithoutDisconnect()
    {
        var m = _handle.DangerousGetHandle();
        Mosquitto.ReconnectDelaySet(m, 3600, 3600, false);
        var fd = Mosquitto.Socket(m);
        if (fd >= 0) LibC.Shutdown(fd, LibC.SHUT_RDWR);
    }

    public static byte[] Utf8Z(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }

    private static MqttConnection? From(nint obj) => obj == 0 ? null : GCHandle.FromIntPtr(obj).Target as MqttConnection;

    [UnmanagedCallersOnly]
    private static void OnConnectThunk(nint mosq, nint obj, int rc)
    {
        var self = From(obj);
        if (self is null) return;
        try
        {
            if (rc != 0)
            {
                self._refused = true;
                self._lastError = $"broker {self.Endpoint} refused the connection: {Mosquitto.ConnackText(rc)}";
                return;
            }
            self._refused = false;
            Volatile.Write(ref self._outstanding, 0);
            for (var i = 0; i < self._subscriptions.Length; i++)
                fixed (byte* t = self._subscriptions[i])
                    Mosquitto.Subscribe(mosq, null, t, self._subscriptionQos[i]);
            self._connected = true;
            Interlocked.Increment(ref self._connects);
            self._sink.OnConnected();
        }
        catch (Exception e) { self._lastError = e.Message; }
    }

    [UnmanagedCallersOnly]
    private static void OnDisconnectThunk(nint mosq, nint obj, int rc)
    {
        var self = From(obj);
        if (self is null) return;
        try
        {
            var was = self._connected;
            self._connected = false;
            var reason = rc == 0 ? "disconnected" : $"connection to {self.Endpoint} lost: {Mosquitto.ErrorText(rc)}";
            if (was || !self._refused) self._lastError = reason; // keep the broker's CONNACK reason: it says why
            if (was && !self._disposed) self._sink.OnConnectionLost(reason);
        }
        catch (Exception e) { self._lastError = e.Message; }
    }

    [UnmanagedCallersOnly]
    private static void OnPublishThunk(nint mosq, nint obj, int mid)
    {
        var self = From(obj);
        if (self is null) return;
        if (Interlocked.Decrement(ref self._outstanding) < 0) Interlocked.Exchange(ref self._outstanding, 0);
    }

    [UnmanagedCallersOnly]
    private static void OnMessageThunk(nint mosq, nint obj, Mosquitto.Message* message)
    {
        var self = From(obj);
        if (self is null || message is null) return;
        try
        {
            var topic = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(message->topic);
            for (var i = 0; i < self._subscriptions.Length; i++)
            {
                if (!topic.SequenceEqual(self._subscriptions[i].AsSpan(0, self._subscriptions[i].Length - 1))) continue;
                self._sink.OnMessage(i, new ReadOnlySpan<byte>(message->payload, message->payloadlen), message->retain);
                return;
            }
        }
        catch (Exception e) { self._lastError = e.Message; }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _connected = false;
        _stop.Cancel();
        _starter?.Join();
        _handle.Dispose(); // disconnect, join the network thread, destroy
        if (_self.IsAllocated) _self.Free();
        _stop.Dispose();
    }
}
