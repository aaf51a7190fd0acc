using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace RobotCtl.Dashboard;

/// <summary>A parsed --listen value.</summary>
public readonly record struct ListenAddress(IPAddress Address, int Port)
{
    public bool IsLoopback => IPAddress.IsLoopback(Address);

    public static ListenAddress Parse(string value)
    {
        var text = value.Trim();
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
            throw new DashboardConfigurationException($"--listen {value}: expected HOST:PORT, e.g. {DashboardOptions.DefaultListen}");
        var host = text[..colon];
        var portText = text[(colon + 1)..];
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
            throw new DashboardConfigurationException($"--listen {value}: expected a port 0..65535, found {portText}");
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        IPAddress address;
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)) address = IPAddress.Loopback;
        else if (host == "*") address = IPAddress.Any;
        else if (!IPAddress.TryParse(host, out address!))
            throw new DashboardConfigurationException($"--listen {value}: expected an IP address or localhost as HOST, found {host} (names other than localhost are not resolved)");
        return new ListenAddress(address, port);
    }

    /// <summary>
    /// Binds and releases the address once, so that a busy port or an address that is not this machine's is refused
    /// before a run opens the arm or records anything (Kestrel would find out only when the loop is ready).
    /// </summary>
    public void EnsureBindable(string text)
    {
        try
        {
            using var probe = new Socket(Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            probe.Bind(new IPEndPoint(Address, Port));
        }
        catch (SocketException e)
        {
            throw new DashboardConfigurationException($"--listen {text}: cannot listen there ({Reason(e)})");
        }
    }

    internal static string Reason(SocketException e) => e.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse => "the port is in use; choose another, or port 0 for any free one",
        SocketError.AddressNotAvailable => "not an address of this machine",
        SocketError.AccessDenied => "permission denied; ports below 1024 need privileges",
        _ => e.Message,
    };
}
