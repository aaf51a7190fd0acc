using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using RobotCtl.Core.Arm;
using RobotCtl.Core.Timing;
using RobotCtl.Hardware.Links;
using RobotCtl.Hardware.Servers;
using RobotCtl.Sim;

namespace RobotCtl.Benchmarks;

/// <summary>
/// Command latency from the controller's TrySend to the arm-side server decoding it, over a socat pty pair
/// (115200 and 1000000 baud) and through a loopback mosquitto broker (QoS 0 and 1, broker with set_tcp_nodelay; and
/// QoS 1 with the broker's default Nagle setting), with the real link and server
/// on both ends in this process. <see cref="CommandToPeer"/> is one command, one wait for the peer: its time is the
/// one-way latency; the per-command sender/receiver timestamps also go into a histogram whose p50/p99 are printed
/// at cleanup (and appended to hardware-link-latency.txt). <see cref="Burst200"/> streams 200 commands as fast as
/// the link takes them and waits for all: its time per operation is the inverse of the sustained rate.
/// Starts socat and mosquitto itself (both must be installed: scripts/setup).
/// </summary>
[MemoryDiagnoser]
public class HardwareLinkBenchmarks
{
    [Params("pty-115200", "pty-1000000", "mqtt-qos0", "mqtt-qos1", "mqtt-qos1-nagle")]
    public string Link { get; set; } = "";

    private readonly List<Process> _processes = [];
    private string _dir = "";
    private IArmLink _link = null!;
    private IAsyncDisposable _server = null!;
    private long _received;
    private readonly double[] _latencyMs = new double[1 << 20];
    private long _samples;
    private readonly EeCommand _command = new(0.0001f, 0, 0, 0, 0, 0, 0);

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("robotctl-bench-").FullName;
        var workcell = new SimWorkcell();
        var serverOptions = new ArmServerOptions { Watchdog = TimeSpan.FromSeconds(10), StateInterval = TimeSpan.FromMilliseconds(100) };
        if (Link.StartsWith("pty-", StringComparison.Ordinal))
        {
            var baud = int.Parse(Link[4..]);
            var a = Path.Combine(_dir, "ctl");
            var b = Path.Combine(_dir, "arm");
            Start("socat", $"-d -d pty,raw,echo=0,link={a} pty,raw,echo=0,link={b}");
            WaitFor(() => File.Exists(a) && File.Exists(b), "socat");
            var server = new SerialArmServer(workcell, new SerialLinkOptions { Device = b, Baud = baud }, serverOptions);
            server.CommandReceived += OnReceived;
            server.Start();
            _server = server;
            _link = new SerialArmLink(new SerialLinkOptions { Device = a, Baud = baud });
        }
        else
        {
            var qos = Link.StartsWith("mqtt-qos1", StringComparison.Ordinal) ? 1 : 0;
            var port = FreePort();
            var conf = Path.Combine(_dir, "mosquitto.conf");
            // "-nagle": the broker's default, Nagle's algorithm on; otherwise set_tcp_nodelay (see docs/PERFORMANCE.md).
            var nodelay = Link.EndsWith("-nagle", StringComparison.Ordinal) ? "" : "set_tcp_nodelay true\n";
            File.WriteAllText(conf, $"listener {port} 127.0.0.1\nallow_anonymous true\n{nodelay}");
            Start("mosquitto", $"-c {conf}");
            WaitFor(() => { try { using var c = new TcpClient(); c.Connect(IPAddress.Loopback, port); return true; } catch (SocketException) { return false; } }, "mosquitto");
            var options = new MqttLinkOptions { Port = port, RobotId = "bench", Qos = qos };
            var server = new MqttArmServer(workcell, options, serverOptions);
            server.CommandReceived += OnReceived;
            server.Start();
            _server = server;
            _link = new MqttArmLink(options);
            WaitFor(() => server.IsConnected, "the MQTT arm server");
        }
        _link.ConnectAsync(CancellationToken.None).GetAwaiter().GetResult();
        Thread.Sleep(200);
    }

    private void OnReceived(ReceivedCommand c)
    {
        var n = Interlocked.Increment(ref _samples) - 1;
        if (n < _latencyMs.Length) _latencyMs[n] = MonotonicClock.TicksToMs(c.ReceivedTicks) - c.SenderMicros / 1000.0;
        Interlocked.Increment(ref _received);
    }

    [Benchmark(Description = "one command, send -> peer decoded")]
    public void CommandToPeer()
    {
        var target = Interlocked.Read(ref _received) + 1;
        while (!_link.TrySend(_command)) Thread.SpinWait(20);
        var spin = new SpinWait();
        while (Interlocked.Read(ref _received) < target) spin.SpinOnce(sleep1Threshold: -1);
    }

    [Benchmark(Description = "200 commands streamed, all delivered", OperationsPerInvoke = 200)]
    public void Burst200()
    {
        const int window = 4; // never more than a few in flight: the links refuse or supersede rather than queue, by design
        var start = Interlocked.Read(ref _received);
        var serial = _link as SerialArmLink;
        var spin = new SpinWait();
        for (var i = 0; i < 200; i++)
        {
            while (Interlocked.Read(ref _received) < start + i - window) spin.SpinOnce(sleep1Threshold: -1);
            var written = serial?.CommandsSent ?? 0;
            while (!_link.TrySend(_command)) spin.SpinOnce(sleep1Threshold: -1);
            // The serial writer keeps one command: wait until it is on the wire so the next does not replace it.
            if (serial is not null) while (serial.CommandsSent == written) spin.SpinOnce(sleep1Threshold: -1);
        }
        while (Interlocked.Read(ref _received) < start + 200) spin.SpinOnce(sleep1Threshold: -1);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        var n = (int)Math.Min(Interlocked.Read(ref _samples), _latencyMs.Length);
        if (n > 0)
        {
            var sorted = _latencyMs.AsSpan(0, n).ToArray();
            Array.Sort(sorted);
            var line = $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} {Link}: {n} commands, send->peer p50 {sorted[n / 2]:0.000} ms, p99 {sorted[(int)(n * 0.99)]:0.000} ms, max {sorted[^1]:0.000} ms";
            Console.WriteLine("// " + line);
            File.AppendAllText(Path.Combine(AppContext.BaseDirectory, "hardware-link-latency.txt"), line + Environment.NewLine);
        }
        _link.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        foreach (var p in _processes)
        {
            try { p.Kill(entireProcessTree: true); p.WaitForExit(5000); } catch (InvalidOperationException) { }
            p.Dispose();
        }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private void Start(string file, string args)
    {
        var p = Process.Start(new ProcessStartInfo(file, args) { UseShellExecute = false, RedirectStandardError = true })
                ?? throw new InvalidOperationException($"could not start {file}");
        p.ErrorDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        _processes.Add(p);
    }

    private static void WaitFor(Func<bool> condition, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException($"{what} did not come up");
            Thread.Sleep(10);
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
