using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using RobotCtl.Hardware.Serial;

namespace RobotCtl.Benchmarks;

/// <summary>
/// Why the control path keeps its own termios transport instead of System.IO.Ports: one 48-byte frame (a command's
/// size) written to a socat pty and echoed back by a peer thread (our termios port on the far end), read until all
/// 48 bytes are back. The same peer and pty serve both ports; only the controller side differs. Starts socat itself.
/// </summary>
[MemoryDiagnoser]
public class SerialPortComparisonBenchmarks
{
    private const int FrameBytes = 48;
    private const int Baud = 115200;
    private readonly byte[] _frame = new byte[FrameBytes];
    private readonly byte[] _back = new byte[FrameBytes];
    private string _dir = "";
    private Process? _socat;
    private SerialPort _peer = null!;
    private Thread? _echo;
    private volatile bool _stop;
    private SerialPort? _termios;
    private System.IO.Ports.SerialPort? _ports;

    [GlobalSetup(Target = nameof(Termios))]
    public void SetupTermios() => _termios = SerialPort.Open(StartPair(), Baud);

    [GlobalSetup(Target = nameof(SystemIoPorts))]
    public void SetupPorts()
    {
        _ports = new System.IO.Ports.SerialPort(StartPair(), Baud) { ReadTimeout = 1000, WriteTimeout = 1000 };
        _ports.Open();
    }

    [Benchmark(Baseline = true, Description = "termios (robotctl): 48 B out, echoed back")]
    public void Termios()
    {
        if (!_termios!.Write(_frame, 1000)) throw new TimeoutException("write");
        for (var got = 0; got < FrameBytes;)
        {
            var n = _termios.Read(_back.AsSpan(got), 1000);
            if (n == 0) throw new TimeoutException("echo");
            got += n;
        }
    }

    [Benchmark(Description = "System.IO.Ports: 48 B out, echoed back")]
    public void SystemIoPorts()
    {
        _ports!.Write(_frame, 0, FrameBytes);
        for (var got = 0; got < FrameBytes;) got += _ports.Read(_back, got, FrameBytes - got);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stop = true;
        _echo?.Join(2000);
        _termios?.Dispose();
        _ports?.Close();
        _peer.Dispose();
        if (_socat is not null)
        {
            try { _socat.Kill(); _socat.WaitForExit(5000); } catch (InvalidOperationException) { }
            _socat.Dispose();
        }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>Starts socat and the echoing peer; returns the controller's end of the pty pair.</summary>
    private string StartPair()
    {
        _dir = Directory.CreateTempSubdirectory("robotctl-serial-bench-").FullName;
        var a = Path.Combine(_dir, "ctl");
        var b = Path.Combine(_dir, "arm");
        _socat = Process.Start(new ProcessStartInfo("socat", $"pty,raw,echo=0,link={a} pty,raw,echo=0,link={b}") { UseShellExecute = false })
                 ?? throw new InvalidOperationException("could not start socat (scripts/setup installs it)");
        var sw = Stopwatch.StartNew();
        while (!(File.Exists(a) && File.Exists(b)))
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException("socat did not create the pty pair");
            Thread.Sleep(10);
        }
        _peer = SerialPort.Open(b, Baud);
        _echo = new Thread(() =>
        {
            var buffer = new byte[256];
            while (!_stop)
            {
                var n = _peer.Read(buffer, 100);
                if (n > 0) _peer.Write(buffer.AsSpan(0, n), 1000);
            }
        }) { IsBackground = true, Name = "serial echo" };
        _echo.Start();
        return a;
    }
}
