using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet.Server;

namespace RobotCtl.Hardware.Mqtt;

/// <summary>
/// An MQTT broker inside this process (MQTTnet.Server), listening on loopback only, for a one-machine setup without
/// mosquitto: `robotctl sim-arm --mqtt embedded` serves the simulated arm through it, and a runtime on the same machine
/// connects to 127.0.0.1 as it would to any broker. Not for a real arm on a network: no TLS, no authentication, nothing
/// persisted. Like MQTTnet's server in general, it refuses clients without a client id (mosquitto_sub needs -i).
/// </summary>
public sealed class EmbeddedMqttBroker : IAsyncDisposable
{
    private readonly MqttServer _server;
    private readonly ILogger _logger;

    private EmbeddedMqttBroker(MqttServer server, int port, ILogger logger)
    {
        _server = server;
        Port = port;
        _logger = logger;
    }

    /// <summary>The loopback port it listens on.</summary>
    public int Port { get; }

    /// <summary>
    /// Starts the broker on 127.0.0.1:<paramref name="port"/> (0: a free port). Throws <see cref="IOException"/> naming the
    /// address when it cannot listen there (e.g. mosquitto already has the port).
    /// </summary>
    public static async Task<EmbeddedMqttBroker> StartAsync(int port, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        if (port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(port), port, "expected a TCP port, 0..65535");
        logger ??= NullLogger.Instance;
        if (port == 0) port = FreeLoopbackPort();
        var factory = new MqttServerFactory();
        var options = factory.CreateServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointBoundIPV6Address(IPAddress.IPv6Loopback)
            .WithDefaultEndpointPort(port)
            .Build();
        var server = factory.CreateMqttServer(options);
        try
        {
            await server.StartAsync().WaitAsync(cancellationToken);
        }
        catch (SocketException e)
        {
            server.Dispose();
            throw new IOException($"cannot start the embedded MQTT broker on 127.0.0.1:{port}: {e.Message}", e);
        }
        logger.LogInformation("embedded MQTT broker listening on 127.0.0.1:{Port} (loopback only)", port);
        return new EmbeddedMqttBroker(server, port, logger);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _server.StopAsync();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
        {
            _logger.LogDebug(e, "embedded MQTT broker: stop");
        }
        _server.Dispose();
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
