using BenchmarkDotNet.Attributes;
using RobotCtl.Core.Arm;
using RobotCtl.Core.Timing;
using RobotCtl.Hardware.Protocol;
using RobotCtl.Hardware.Safety;

namespace RobotCtl.Benchmarks;

/// <summary>The per-command CPU cost of the hardware layer: frame encode/decode and the safety governor. All must allocate nothing.</summary>
[MemoryDiagnoser]
public class HardwareCodecBenchmarks
{
    private readonly byte[] _frame = new byte[WireFrame.MaxFrameSize];
    private readonly byte[] _stream = new byte[WireFrame.CommandFrameSize * 64];
    private readonly FrameDecoder _decoder = new();
    private SafetyGovernor _governor = null!;
    private long _now;
    private readonly EeCommand _command = new(0.03f, -0.01f, 0.005f, 0.01f, 0, 0.2f, 0.1f);

    [GlobalSetup]
    public void Setup()
    {
        for (var i = 0; i < 64; i++) WireFrame.EncodeCommand(_stream.AsSpan(i * WireFrame.CommandFrameSize), (uint)i, (ulong)i, _command);
        _governor = new SafetyGovernor(new SafetyLimits
        {
            MaxStep = [0.02f, 0.02f, 0.02f, 0.05f, 0.05f, 0.05f, 0.2f], WorkspaceMin = [-0.3, -0.3, 0], WorkspaceMax = [0.3, 0.3, 0.3],
            MaxRateHz = 1e9, MaxStateAge = TimeSpan.FromDays(1),
        });
        _now = MonotonicClock.Now;
    }

    [Benchmark(Description = "encode command frame (48 B)")]
    public int EncodeCommand() => WireFrame.EncodeCommand(_frame, 1, 2, _command);

    [Benchmark(Description = "decode 64 command frames", OperationsPerInvoke = 64)]
    public int Decode64()
    {
        var n = 0;
        ReadOnlySpan<byte> data = _stream;
        while (!data.IsEmpty)
        {
            data = data[_decoder.Feed(data)..];
            while (_decoder.TryDecode(out var f)) if (f.TryReadCommand(out _)) n++;
        }
        return n;
    }

    [Benchmark(Description = "governor: clamp step + workspace")]
    public GovernedCommand Govern()
    {
        _now += 1000;
        return _governor.Govern(_command, true, new ArmState(0.295, 0, 0.1, 0, 0, 0, 0.5, _now, 1), _now);
    }
}
