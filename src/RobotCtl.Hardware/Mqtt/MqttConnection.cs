using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MQTTnet;
using MQTTnet.Channel;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using RobotCtl.Hardware.Links;

namespace RobotCtl.Hardware.Mqtt;

/// <summary>
/// One MQTTnet client, MQTT 3.1.1, TCP_NODELAY, clean session, keep-alive, optional last will (QoS 1, retained),
/// username/password and TLS. MQTTnet v5 has no auto-reconnecting client, so this class runs its own reconnect loop:
/// a lost connection (MQTTnet's DisconnectedAsync) wakes it; it connects again at once and then with exponential
/// backoff (the options' ReconnectInitialDelay doubling to ReconnectMaxDelay), and after every connect it renews
/// every subscription (clean session: the broker keeps none) before it reports <see cref="IMqttSink.OnConnected"/>.
/// The socket (and the TLS stream over it) is opened here, through MQTTnet's stream-provider hook, so the connection
/// owns it (TCP_NODELAY, the test aid <see cref="AbortWithoutDisconnect"/>).
/// Publishing never queues: while disconnected, or with <see cref="MaxOutstanding"/> QoS&gt;0 messages unacknowledged,
/// <see cref="TryPublish"/> returns false at once; MQTTnet's plain client holds no offline queue, and a clean session
/// means the broker holds nothing for us either, so nothing can burst out late after a reconnect.
/// </summary>
internal sealed class MqttConnection : IDisposable, IMqttClientStreamProvider
{
    public const int MaxOutstanding = 8;

    private readonly MqttLinkOptions _options;
    private readonly IMqttSink _sink;
    private readonly string[] _subscriptions;
    private readonly MqttQualityOfServiceLevel[] _subscriptionQos;
    private readonly IMqttClient _client;
    private readonly MqttClientOptions _clientOptions;
    private readonly X509Certificate2Collection? _trust;
    private readonly X509Certificate2Collection? _clientCertificates;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private volatile TaskCompletionSource? _lost;
    private volatile Socket? _socket;
    private volatile bool _connected, _disposed, _crashed;
    private int _outstanding, _started;
    private volatile string _lastError = "not connected yet";
    private volatile string? _attemptError;
    private long _connects;

    /// <param name="subscriptionQos">QoS per subscription (same order); null: the options' QoS for every one.</param>
    public MqttConnection(MqttLinkOptions options, string clientId, IReadOnlyList<string> subscriptions, (string Topic, string Payload)? will, IMqttSink sink,
        IReadOnlyList<int>? subscriptionQos = null)
    {
        options.Validate();
        _options = options;
        _sink = sink;
        _subscriptions = subscriptions.ToArray();
        _subscriptionQos = (subscriptionQos?.ToArray() ?? Enumerable.Repeat(options.Qos, _subscriptions.Length).ToArray())
            .Select(q => (MqttQualityOfServiceLevel)q).ToArray();
        if (_subscriptionQos.Length != _subscriptions.Length) throw new ArgumentException("one QoS per subscription", nameof(subscriptionQos));

        if (options.TlsCaFile is { } ca)
        {
            try
            {
                _trust = [];
                _trust.ImportFromPemFile(ca);
                if (_trust.Count == 0) throw new MqttException($"set TLS (CA {ca})", "no PEM certificate in the file");
            }
            catch (Exception e) when (e is not MqttException) { throw new MqttException($"set TLS (CA {ca})", e.Message, e); }
            if (options.TlsCertFile is { } certFile && options.TlsKeyFile is { } keyFile)
            {
                try { _clientCertificates = [X509Certificate2.CreateFromPemFile(certFile, keyFile)]; }
                catch (Exception e) { throw new MqttException($"set TLS client certificate ({certFile}, key {keyFile})", e.Message, e); }
            }
        }

        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(options.Host, options.Port)
            .WithStreamProvider(this)
            .WithClientId(clientId)
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithCleanSession(true)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(options.KeepAliveSeconds))
            .WithTimeout(options.ConnectTimeout);
        if (will is { } w)
            builder = builder.WithWillTopic(w.Topic).WithWillPayload(Encoding.UTF8.GetBytes(w.Payload))
                .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithWillRetain(true);
        if (options.Username is not null)
            builder = builder.WithCredentials(options.Username, options.Password is null ? null : Encoding.UTF8.GetBytes(options.Password));
        _clientOptions = builder.Build();

        _client = new MqttClientFactory().CreateMqttClient();
        _client.DisconnectedAsync += OnDisconnectedAsync;
        _client.ApplicationMessageReceivedAsync += OnMessageAsync;
    }

    public bool IsConnected => _connected;
    public string LastError => _lastError;
    public long Connects => Interlocked.Read(ref _connects);
    public string Endpoint => $"{_options.Host}:{_options.Port}";

    /// <summary>Starts the connection loop (connects, and reconnects with backoff after every loss) in the background.</summary>
    public void Start()
    {
        if (_disposed || Interlocked.Exchange(ref _started, 1) != 0) return;
        _loop = Task.Run(RunAsync);
    }

    private async Task RunAsync()
    {
        var stop = _stop.Token;
        var delay = _options.ReconnectInitialDelay;
        while (!stop.IsCancellationRequested)
        {
            var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _lost = lost;
            try
            {
                await ConnectOnceAsync(stop).ConfigureAwait(false);
                delay = _options.ReconnectInitialDelay;
                await lost.Task.WaitAsync(stop).ConfigureAwait(false);
                if (_crashed) await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
                continue; // lost: try once at once, then back off
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { break; }
            catch (Exception e)
            {
                _lastError = _attemptError ?? $"connect to {Endpoint}: {Describe(e)}";
                if (_client.IsConnected) // connected but the subscriptions failed: start over on a fresh connection
                    try { await _client.DisconnectAsync(new MqttClientDisconnectOptions(), CancellationToken.None).ConfigureAwait(false); } catch { /* reported above */ }
            }
            try { await Task.Delay(delay, stop).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.ReconnectMaxDelay.Ticks));
        }
    }

    private async Task ConnectOnceAsync(CancellationToken stop)
    {
        _attemptError = null;
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stop);
        attempt.CancelAfter(_options.ConnectTimeout);
        try
        {
            var result = await _client.ConnectAsync(_clientOptions, attempt.Token).ConfigureAwait(false);
            if (result.ResultCode != MqttClientConnectResultCode.Success)
                throw new MqttException("connect", _attemptError = $"broker {Endpoint} refused the connection: {ConnackText(result.ResultCode)}");

            var subscribe = new MqttClientSubscribeOptionsBuilder();
            for (var i = 0; i < _subscriptions.Length; i++) subscribe.WithTopicFilter(_subscriptions[i], _subscriptionQos[i]);
            var granted = await _client.SubscribeAsync(subscribe.Build(), attempt.Token).ConfigureAwait(false);
            foreach (var item in granted.Items)
                if ((int)item.ResultCode > 2)
                    throw new MqttException("subscribe", _attemptError = $"broker {Endpoint} refused the subscription to {item.TopicFilter.Topic}: {item.ResultCode}");
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            throw new TimeoutException($"no answer within {_options.ConnectTimeout.TotalSeconds:0.#} s");
        }
        Volatile.Write(ref _outstanding, 0);
        _connected = true;
        Interlocked.Increment(ref _connects);
        _lastError = "connected";
        _sink.OnConnected();
    }

    /// <summary>MQTTnet's transport hook: the TCP socket (TCP_NODELAY) and, with a CA file, TLS over it.</summary>
    async Task<Stream> IMqttClientStreamProvider.ConnectAsync(EndPoint remoteEndPoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(_options.Host, _options.Port, cancellationToken).ConfigureAwait(false);
            Stream stream = new NetworkStream(socket, ownsSocket: true);
            if (_trust is not null)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                try
                {
                    await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                    {
                        TargetHost = _options.Host,
                        ClientCertificates = _clientCertificates,
                        RemoteCertificateValidationCallback = ValidateBroker,
                    }, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    await tls.DisposeAsync().ConfigureAwait(false);
                    throw new IOException($"TLS handshake with {Endpoint} failed: {_attemptError ?? Describe(e)}", e);
                }
                stream = tls;
            }
            _socket = socket;
            return stream;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The broker's certificate must chain to the CA file and match the host name (as libmosquitto checked).</summary>
    private bool ValidateBroker(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null) { _attemptError = $"broker {Endpoint} sent no certificate"; return false; }
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            _attemptError = $"the certificate of {Endpoint} does not name host {_options.Host}";
            return false;
        }
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        custom.ChainPolicy.CustomTrustStore.AddRange(_trust!);
        var cert = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (custom.Build(cert)) return true;
        _attemptError = $"the certificate of {Endpoint} ({cert.Subject}) is not trusted by {_options.TlsCaFile}: "
            + string.Join("; ", custom.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).DefaultIfEmpty("chain not valid"));
        return false;
    }

    /// <summary>Publishes now or returns false (not connected, too many unacknowledged, or the client refused).</summary>
    public bool TryPublish(string topic, ReadOnlySpan<byte> payload, int qos, bool retain)
    {
        if (!_connected || _disposed) return false;
        if (qos > 0 && Interlocked.Increment(ref _outstanding) > MaxOutstanding)
        {
            Interlocked.Decrement(ref _outstanding);
            return false;
        }
        var message = new MqttApplicationMessage
        {
            Topic = topic,
            Payload = new ReadOnlySequence<byte>(payload.ToArray()), // the caller's buffer is reused at once
            QualityOfServiceLevel = (MqttQualityOfServiceLevel)qos,
            Retain = retain,
        };
        Task<MqttClientPublishResult> sent;
        try
        {
            sent = _client.PublishAsync(message, CancellationToken.None);
        }
        catch (Exception e)
        {
            Published(null, qos, e);
            return false;
        }
        if (sent.IsCompleted)
        {
            Published(sent, qos, null);
            return sent.IsCompletedSuccessfully;
        }
        sent.ContinueWith(t => Published(t, qos, null), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return true;
    }

    private void Published(Task<MqttClientPublishResult>? sent, int qos, Exception? thrown)
    {
        if (qos > 0 && Interlocked.Decrement(ref _outstanding) < 0) Interlocked.Exchange(ref _outstanding, 0);
        var error = thrown ?? sent?.Exception?.GetBaseException();
        if (error is not null) _lastError = $"publish to {Endpoint}: {Describe(error)}";
        else if (sent is { IsCanceled: true }) _lastError = $"publish to {Endpoint}: cancelled";
    }

    /// <summary>
    /// Test aid that imitates a crash: the socket is shut down under MQTTnet without a DISCONNECT packet, so the
    /// broker publishes the last will; this connection then stays down.
    /// </summary>
    internal void AbortWithoutDisconnect()
    {
        _crashed = true;
        try { _socket?.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    private Task OnDisconnectedAsync(MqttClientDisconnectedEventArgs e)
    {
        try
        {
            if (!e.ClientWasConnected)
            {
                if (e.ConnectResult is { ResultCode: not MqttClientConnectResultCode.Success } refused)
                    _attemptError = $"broker {Endpoint} refused the connection: {ConnackText(refused.ResultCode)}";
                return Task.CompletedTask;
            }
            var was = _connected;
            _connected = false;
            var reason = _disposed ? "disconnected"
                : $"connection to {Endpoint} lost: {(e.Exception is { } x ? Describe(x) : e.Reason.ToString())}";
            _lastError = reason;
            _lost?.TrySetResult();
            if (was && !_disposed) _sink.OnConnectionLost(reason);
        }
        catch (Exception x) { _lastError = x.Message; }
        return Task.CompletedTask;
    }

    private Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        try
        {
            var message = e.ApplicationMessage;
            var topic = message.Topic;
            for (var i = 0; i < _subscriptions.Length; i++)
            {
                if (!string.Equals(topic, _subscriptions[i], StringComparison.Ordinal)) continue;
                var payload = message.Payload;
                if (payload.IsSingleSegment) _sink.OnMessage(i, payload.FirstSpan, message.Retain);
                else _sink.OnMessage(i, payload.ToArray(), message.Retain);
                break;
            }
        }
        catch (Exception x) { _lastError = x.Message; }
        return Task.CompletedTask;
    }

    /// <summary>An exception and its causes in one line, each message once ("connection refused", "TLS ...").</summary>
    private static string Describe(Exception e)
    {
        var parts = new List<string>();
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is AggregateException { InnerException: not null }) continue;
            var m = x.Message.Trim().TrimEnd('.');
            if (m.Length > 0 && !parts.Any(p => p.Contains(m, StringComparison.Ordinal))) parts.Add(m);
        }
        return parts.Count == 0 ? e.GetType().Name : string.Join(": ", parts);
    }

    /// <summary>The CONNACK refusal in the words libmosquitto used (mosquitto_connack_string).</summary>
    private static string ConnackText(MqttClientConnectResultCode code) => code switch
    {
        MqttClientConnectResultCode.UnsupportedProtocolVersion => "Connection Refused: unacceptable protocol version",
        MqttClientConnectResultCode.ClientIdentifierNotValid => "Connection Refused: identifier rejected",
        MqttClientConnectResultCode.ServerUnavailable => "Connection Refused: broker unavailable",
        MqttClientConnectResultCode.BadUserNameOrPassword => "Connection Refused: bad user name or password",
        MqttClientConnectResultCode.NotAuthorized => "Connection Refused: not authorised",
        _ => $"Connection Refused: {code}",
    };

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        var was = _connected;
        _connected = false;
        _stop.Cancel();
        if (was && !_crashed)
        {
            try { _client.DisconnectAsync(new MqttClientDisconnectOptions(), CancellationToken.None).Wait(TimeSpan.FromSeconds(2)); }
            catch { /* closing anyway */ }
        }
        try { _loop?.Wait(TimeSpan.FromSeconds(5)); } catch { /* the loop ends on cancellation */ }
        _client.Dispose();
        _stop.Dispose();
    }
}
