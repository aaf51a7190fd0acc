using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace RobotCtl.Hardware.Tests;

/// <summary>Real parts for integration tests: socat pty pairs, a mosquitto broker, mosquitto_sub. Each cleans up.</summary>
internal static class TestRig
{
    public static string RepoRoot { get; } = FindRepoRoot();

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "robotctl.sln"))) return dir.FullName;
        throw new InvalidOperationException("robotctl.sln not found above " + AppContext.BaseDirectory);
    }

    public static int FreeTcpPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public static Process Start(string file, string arguments, bool redirectOutput = false)
    {
        var psi = new ProcessStartInfo(file, arguments)
        {
            UseShellExecute = false,
            RedirectStandardOutput = redirectOutput,
            RedirectStandardError = true,
        };
        return Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
    }

    public static void Kill(Process? p)
    {
        if (p is null) return;
        try { if (!p.HasExited) { p.Kill(entireProcessTree: true); p.WaitForExit(5000); } } catch (InvalidOperationException) { }
        p.Dispose();
    }

    /// <summary>
    /// The bound for waits on real ptys, brokers and processes: far above what anything takes on an idle machine, so
    /// a test fails only when the awaited thing never happens, not when a loaded machine is slow.
    /// </summary>
    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    /// <summary>Polls until <paramref name="condition"/> holds; past <paramref name="timeout"/> fails naming <paramref name="what"/>.</summary>
    public static async Task WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > timeout) throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.#} s waiting for {what}");
            await Task.Delay(10);
        }
    }
}

/// <summary><c>socat -d -d pty,raw,echo=0,link=A pty,raw,echo=0,link=B</c>: a linked pair of real ttys.</summary>
internal sealed class PtyPair : IDisposable
{
    private Process? _socat;

    public PtyPair(string directory)
    {
        A = System.IO.Path.Combine(directory, "ctl");
        B = System.IO.Path.Combine(directory, "arm");
    }

    public string A { get; }
    public string B { get; }

    public async Task StartAsync()
    {
        _socat = TestRig.Start("socat", $"-d -d pty,raw,echo=0,link={A} pty,raw,echo=0,link={B}");
        _socat.ErrorDataReceived += (_, _) => { };
        _socat.BeginErrorReadLine();
        await TestRig.WaitUntil(() => File.Exists(A) && File.Exists(B), TestRig.Generous, "socat's pty links");
    }

    /// <summary>
    /// Kills socat: both ttys hang up and disappear, as an unplugged adapter does. SIGKILL leaves socat's symlinks
    /// dangling (opening them fails with ENOENT, like a vanished /dev node); they are removed so a restart can recreate them.
    /// </summary>
    public Task StopAsync()
    {
        TestRig.Kill(_socat);
        _socat = null;
        File.Delete(A);
        File.Delete(B);
        return Task.CompletedTask;
    }

    public void Dispose() => TestRig.Kill(_socat);
}

/// <summary>A mosquitto broker on a free loopback port with <c>listener PORT 127.0.0.1</c> + <c>allow_anonymous true</c>.</summary>
internal sealed class Broker : IDisposable
{
    private readonly string _config;
    private Process? _process;

    public Broker(string directory, string? extraConfig = null)
    {
        Port = TestRig.FreeTcpPort();
        _config = System.IO.Path.Combine(directory, "mosquitto.conf");
        File.WriteAllText(_config, $"listener {Port} 127.0.0.1\n{extraConfig ?? "allow_anonymous true\n"}persistence false\nset_tcp_nodelay true\n" +
            $"user {Environment.UserName}\n"); // run as root, mosquitto would otherwise switch to 'mosquitto' and lose our temp files
    }

    public int Port { get; }

    /// <summary>The broker's log (stderr), for failure messages.</summary>
    public ConcurrentQueue<string> Log { get; } = new();

    public async Task StartAsync()
    {
        _process = TestRig.Start("mosquitto", $"-c {_config}");
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Log.Enqueue(e.Data); };
        _process.BeginErrorReadLine();
        await TestRig.WaitUntil(() =>
        {
            try { using var c = new TcpClient(); c.Connect(IPAddress.Loopback, Port); return true; }
            catch (SocketException) { return _process.HasExited ? throw new InvalidOperationException("mosquitto exited: " + string.Join(" | ", Log)) : false; }
        }, TestRig.Generous, $"mosquitto on port {Port}");
    }

    public void Stop()
    {
        TestRig.Kill(_process);
        _process = null;
    }

    public void Dispose() => Stop();
}

/// <summary>mosquitto_sub printing "topic hexpayload" per message (<c>-F '%t %x'</c>), read line by line.</summary>
internal sealed class Subscriber : IDisposable
{
    private readonly Process _process;

    public Subscriber(int port, string topic)
    {
        // An explicit client id: MQTTnet's broker (EmbeddedMqttBroker) refuses the empty one mosquitto_sub sends otherwise.
        _process = TestRig.Start("mosquitto_sub", $"-h 127.0.0.1 -p {port} -i sub-{Guid.NewGuid():N} -t {topic} -F \"%t %r %x\\n\"", redirectOutput: true);
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) Lines.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>"topic retained(0|1) hex" per message.</summary>
    public ConcurrentQueue<string> Lines { get; } = new();

    public IEnumerable<(string Topic, bool Retained, byte[] Payload)> Messages =>
        Lines.ToArray().Select(l => l.Split(' ')).Where(p => p.Length >= 2)
            .Select(p => (p[0], p[1] == "1", p.Length > 2 ? Convert.FromHexString(p[2]) : []));

    public void Dispose() => TestRig.Kill(_process);
}

/// <summary>A minimal backend for tests that do not need the sim's physics: integrates deltas, records commands.</summary>
internal sealed class RecordingBackend : RobotCtl.Core.Arm.IArmBackend
{
    private readonly Lock _gate = new();
    private double _x, _y = -0.1, _z = 0.1, _g;
    private uint _seq;
    public List<RobotCtl.Core.Arm.EeCommand> Applied { get; } = [];

    public RobotCtl.Core.Arm.ArmState Apply(in RobotCtl.Core.Arm.EeCommand c)
    {
        lock (_gate)
        {
            Applied.Add(c);
            _x += c.Dx; _y += c.Dy; _z += c.Dz; _g = Math.Clamp(_g + c.Gripper, 0, 1);
            _seq++;
            return State();
        }
    }

    public RobotCtl.Core.Arm.ArmState CurrentState { get { lock (_gate) return State(); } }

    public RobotCtl.Core.Arm.EeCommand[] Snapshot() { lock (_gate) return Applied.ToArray(); }

    private RobotCtl.Core.Arm.ArmState State() => new(_x, _y, _z, 0, 0, 0, _g, RobotCtl.Core.Timing.MonotonicClock.Now, _seq);
}
