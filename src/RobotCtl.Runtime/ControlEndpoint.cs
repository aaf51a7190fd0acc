using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using RobotCtl.Runtime.Composition;

namespace RobotCtl.Runtime;

/// <summary>
/// The local control endpoint of a running runtime: a Unix domain socket (never a network port) in a directory of
/// mode 0700, the socket itself mode 0600, and the peer's uid checked (SO_PEERCRED) against ours, so only the user
/// who owns the runtime (or root) can reach it. One request line, one reply line, then the connection closes:
/// <c>estop [reason]</c>, <c>release</c>, <c>status</c>; replies start with <c>ok </c> or <c>error: </c>.
/// Each runtime has its own socket (robotctl-&lt;pid&gt;-&lt;n&gt;.sock), so <c>robotctl estop</c> reaches every
/// runtime of the user at once. Served on its own task, off the control path.
/// </summary>
public sealed class ControlEndpoint : IAsyncDisposable
{
    public const string SocketPrefix = "robotctl-";
    public const string SocketSuffix = ".sock";
    private const int MaxRequestBytes = 512;
    private const int SolSocket = 1, SoPeerCred = 17; // Linux <sys/socket.h>
    private const int MaxSocketPathBytes = 107;       // sun_path is 108 bytes with its terminating NUL
    private const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode GroupOrOther = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(2);
    private static int s_sockets;
    private static readonly Lazy<uint?> s_uid = new(ReadEffectiveUid);

    private readonly Socket _listener;
    private readonly EStopController _estop;
    private readonly string _description;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    private ControlEndpoint(Socket listener, string path, EStopController estop, string description, ILogger logger)
    {
        _listener = listener;
        SocketPath = path;
        _estop = estop;
        _description = description;
        _logger = logger;
        _accepting = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The socket file of this runtime.</summary>
    public string SocketPath { get; }

    /// <summary>
    /// Safety:ControlDirectory when set (relative to the home), else $XDG_RUNTIME_DIR/robotctl, else the home's run/.
    /// </summary>
    public static string DirectoryFor(string? configured)
    {
        if (!string.IsNullOrWhiteSpace(configured)) return Path.GetFullPath(RobotCtlHome.Resolve(configured));
        var xdg = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        if (!string.IsNullOrEmpty(xdg) && Directory.Exists(xdg)) return Path.Combine(xdg, "robotctl");
        return Path.Combine(RobotCtlHome.Path, "run");
    }

    /// <summary>Creates this runtime's socket in <paramref name="directory"/> and starts serving it.</summary>
    /// <exception cref="IOException">The directory cannot be made private, or the socket cannot be bound (the message says which and where).</exception>
    public static ControlEndpoint Start(string directory, EStopController estop, string description, ILogger logger)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("the control endpoint needs Unix file modes");
        EnsurePrivateDirectory(directory);
        RemoveStaleSockets(directory, logger);
        var path = Path.Combine(directory, $"{SocketPrefix}{Environment.ProcessId}-{Interlocked.Increment(ref s_sockets)}{SocketSuffix}");
        if (Encoding.UTF8.GetByteCount(path) > MaxSocketPathBytes)
            throw new IOException($"control socket {path}: longer than a Unix socket path may be ({MaxSocketPathBytes} bytes); set Safety:ControlDirectory to a shorter directory");
        if (File.Exists(path)) File.Delete(path); // a dead process with our pid left it
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            socket.Listen(16);
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            socket.Dispose();
            throw new IOException($"control socket {path}: {e.Message}", e);
        }
        return new ControlEndpoint(socket, path, estop, description, logger);
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void EnsurePrivateDirectory(string directory)
    {
        try
        {
            if (!Directory.Exists(directory)) Directory.CreateDirectory(directory, PrivateDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"control directory {directory}: cannot create it: {e.Message}; set Safety:ControlDirectory", e);
        }
        // Never chmod a directory someone else chose (it may be /tmp): refuse one that others can enter instead.
        var mode = File.GetUnixFileMode(directory);
        if ((mode & GroupOrOther) != 0)
            throw new IOException($"control directory {directory}: mode {Convert.ToString((int)mode, 8)} lets other users in; " +
                "it must be private to you (chmod 700 it) or set Safety:ControlDirectory to another directory");
    }

    /// <summary>The sockets runs killed with -9 left behind: else `robotctl estop` would keep finding them.</summary>
    private static void RemoveStaleSockets(string directory, ILogger logger)
    {
        foreach (var file in Directory.EnumerateFiles(directory, SocketPrefix + "*" + SocketSuffix))
            if (TryRemoveStale(file, out var what)) logger.LogInformation("removed the control socket {Path} of a run that died without closing it ({What})", file, what);
    }

    /// <summary>
    /// Removes <paramref name="socketPath"/> when it is the socket of a dead runtime: the pid in its name
    /// (robotctl-PID-N.sock) is not a live process (gone, or a zombie) and nothing accepts connections on it. True when
    /// removed; <paramref name="what"/> says why it was or was not (a live pid may be a run starting or stopping).
    /// </summary>
    public static bool TryRemoveStale(string socketPath, out string what)
    {
        var name = Path.GetFileName(socketPath);
        var dash = name.StartsWith(SocketPrefix, StringComparison.Ordinal) ? name.IndexOf('-', SocketPrefix.Length) : -1;
        if (dash < 0 || !int.TryParse(name.AsSpan(SocketPrefix.Length, dash - SocketPrefix.Length), out var pid))
        {
            what = $"its name does not say which process made it (expected {SocketPrefix}<pid>-<n>{SocketSuffix})";
            return false;
        }
        if (IsAlive(pid))
        {
            what = $"its process, pid {pid}, is alive (a run starting or stopping)";
            return false;
        }
        if (Accepts(socketPath))
        {
            what = $"pid {pid} is gone, yet something accepts connections on it";
            return false;
        }
        try
        {
            File.Delete(socketPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            what = $"pid {pid} is gone, but the file cannot be removed: {e.Message}";
            return false;
        }
        what = $"pid {pid} is gone";
        return true;
    }

    /// <summary>Whether a process with this pid runs: /proc/PID exists and is not a zombie (state Z or X in /proc/PID/stat).</summary>
    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat.LastIndexOf(')') + 2; // "pid (comm) S ...": the name may hold spaces and parentheses
            return state >= stat.Length || stat[state] is not ('Z' or 'X');
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true; // cannot tell: leave its socket alone
        }
    }

    /// <summary>A non-blocking connect: only a listening socket accepts it (or is too busy to: EAGAIN); a dead one refuses.</summary>
    private static bool Accepts(string socketPath)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { Blocking = false };
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(socketPath));
            return true;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode is SocketError.WouldBlock or SocketError.TryAgain or SocketError.InProgress;
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException e)
            {
                if (_stop.IsCancellationRequested) return;
                _logger.LogWarning("control endpoint {Path}: accept failed: {Error}", SocketPath, e.Message);
                continue;
            }
            // Each client on its own task: one that never sends its line cannot delay an e-stop behind it.
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using (client)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(RequestTimeout);
            try
            {
                var (allowed, pid) = Peer(client);
                var reply = allowed
                    ? Handle(await ReadLineAsync(client, timeout.Token).ConfigureAwait(false), pid)
                    : "error: only the user who runs this runtime may control it";
                await client.SendAsync(Encoding.UTF8.GetBytes(reply + "\n"), SocketFlags.None, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { }
            catch (SocketException) { }
            catch (Exception e)
            {
                _logger.LogError(e, "control endpoint {Path}: request failed", SocketPath);
            }
        }
    }

    private string Handle(string? line, int peerPid)
    {
        if (line is null) return "error: no request line";
        var text = line.Trim();
        var space = text.IndexOf(' ');
        var verb = space < 0 ? text : text[..space];
        var rest = space < 0 ? "" : text[(space + 1)..].Trim();
        var who = $"robotctl estop (pid {peerPid}{(rest.Length > 0 ? $": {rest}" : "")})";
        return verb switch
        {
            "estop" => $"ok {_description}: {_estop.Latch(who)}",
            "release" => $"ok {_description}: {_estop.Release(who.Replace("robotctl estop", "robotctl estop --release", StringComparison.Ordinal))}",
            "status" => $"ok {_description}: {(_estop.IsLatched ? "latched" : "armed")}",
            _ => $"error: unknown request \"{Truncate(verb)}\"; expected estop, release or status",
        };
    }

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "...";

    /// <summary>SO_PEERCRED: the connecting process's pid and whether its uid is ours (or root's).</summary>
    private static (bool Allowed, int Pid) Peer(Socket client)
    {
        Span<byte> cred = stackalloc byte[12]; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        var n = client.GetRawSocketOption(SolSocket, SoPeerCred, cred);
        if (n < 12) return (false, 0);
        var pid = BitConverter.ToInt32(cred[..4]);
        var uid = BitConverter.ToUInt32(cred[4..8]);
        return (s_uid.Value is { } own && (uid == own || uid == 0), pid);
    }

    /// <summary>Our effective uid from /proc/self/status ("Uid: real effective saved fs"); null when unreadable (then nobody is allowed).</summary>
    private static uint? ReadEffectiveUid()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (!line.StartsWith("Uid:", StringComparison.Ordinal)) continue;
                var fields = line[4..].Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
                return fields.Length >= 2 && uint.TryParse(fields[1], out var uid) ? uid : null;
            }
        }
        catch (IOException) { }
        return null;
    }

    private static async Task<string?> ReadLineAsync(Socket socket, CancellationToken ct)
    {
        var buffer = new byte[MaxRequestBytes];
        var used = 0;
        while (used < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(used), SocketFlags.None, ct).ConfigureAwait(false);
            if (n == 0) break;
            var newline = Array.IndexOf(buffer, (byte)'\n', used, n);
            used += n;
            if (newline >= 0) return Encoding.UTF8.GetString(buffer, 0, newline);
        }
        return used == 0 ? null : Encoding.UTF8.GetString(buffer, 0, used);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        _listener.Dispose();
        try { await _accepting.ConfigureAwait(false); } catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException) { }
        try { File.Delete(SocketPath); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        _stop.Dispose();
    }

    // ---- the client side (robotctl estop) ----

    /// <summary>The runtimes' sockets: <paramref name="path"/> itself when it is a socket file, else those in the directory.</summary>
    /// <summary>Whether a file name is a control socket's (robotctl-&lt;pid&gt;-&lt;n&gt;.sock).</summary>
    public static bool IsSocketName(string path)
    {
        var name = Path.GetFileName(path);
        return name.StartsWith(SocketPrefix, StringComparison.Ordinal) && name.EndsWith(SocketSuffix, StringComparison.Ordinal);
    }

    public static IReadOnlyList<string> FindSockets(string path)
    {
        if (File.Exists(path)) return [path];
        if (!Directory.Exists(path)) return [];
        return Directory.EnumerateFiles(path, SocketPrefix + "*" + SocketSuffix).Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// Sends one request line and returns the reply line; null when nothing listens there (a runtime that died without
    /// removing its socket: <see cref="TryRemoveStale"/>). Other failures (permission denied, no reply in time) throw
    /// <see cref="IOException"/>.
    /// </summary>
    public static async Task<string?> RequestAsync(string socketPath, string request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cts.Token).ConfigureAwait(false);
            await socket.SendAsync(Encoding.UTF8.GetBytes(request.ReplaceLineEndings(" ") + "\n"), SocketFlags.None, cts.Token).ConfigureAwait(false);
            return await ReadLineAsync(socket, cts.Token).ConfigureAwait(false) ?? throw new IOException($"{socketPath}: the runtime closed the connection without a reply");
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
        {
            return null;
        }
        catch (SocketException e)
        {
            throw new IOException($"{socketPath}: {e.Message}", e);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"{socketPath}: no reply within {timeout.TotalSeconds:0.#} s");
        }
    }
}
