using BenchmarkDotNet.Attributes;
using RobotCtl.Core.Arm;
using RobotCtl.Core.Vision;
using RobotCtl.Sim;

namespace RobotCtl.Benchmarks;

/// <summary>The simulated workcell's per-cycle costs: one physics step (free motion and pushing) and one rendered frame.</summary>
[MemoryDiagnoser]
public class SimBenchmarks
{
    private readonly SimWorkcell _free = new(SimSceneOptions.Parse("block=0.2:0.2,ee=-0.2:-0.2:0.1"));
    private readonly SimWorkcell _pushing = new(SimSceneOptions.Parse("block=0:0,ee=0:-0.15:0.02"));
    private readonly Frame _frame = new(224, 224);
    private readonly Frame _small = new(64, 64);
    private SimRenderer _topDown = null!, _oblique = null!, _topDown64 = null!;
    private SimSnapshot _pushStart;
    private int _step;

    [GlobalSetup]
    public void Setup()
    {
        _topDown = new SimRenderer(SimRenderOptions.Default);
        _oblique = new SimRenderer(SimRenderOptions.Default with { Projection = SimProjection.Oblique });
        _topDown64 = new SimRenderer(SimRenderOptions.Default with { Width = 64, Height = 64 });
        _pushStart = _pushing.Snapshot();
    }

    /// <summary>A step in free space, back and forth (no contact).</summary>
    [Benchmark]
    public ArmState ApplyFree() => _free.Apply(new EeCommand((_step++ & 1) == 0 ? 0.02f : -0.02f, 0, 0, 0, 0, 0.01f, 0));

    /// <summary>A 2 cm step pushing the block (rewound every 10 steps, before it reaches the wall).</summary>
    [Benchmark]
    public ArmState ApplyPushing()
    {
        if (++_step % 10 == 0) _pushing.Restore(_pushStart);
        return _pushing.Apply(new EeCommand(0.003f, 0.02f, 0, 0, 0, 0, 0));
    }

    [Benchmark]
    public void RenderTopDown224() => _topDown.Render(_pushing, _frame);

    [Benchmark]
    public void RenderOblique224() => _oblique.Render(_pushing, _frame);

    [Benchmark]
    public void RenderTopDown64() => _topDown64.Render(_pushing, _small);
}
