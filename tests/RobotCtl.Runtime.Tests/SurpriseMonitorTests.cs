using RobotCtl.Runtime;

namespace RobotCtl.Runtime.Tests;

public class SurpriseMonitorTests
{
    [Fact]
    public void Steady_prediction_error_triggers_nothing()
    {
        var monitor = new SurpriseMonitor(new SurpriseOptions { WarmupBlocks = 3 });
        for (var i = 0; i < 50; i++)
            Assert.Equal(SurpriseAction.None, monitor.Observe(0.01 + 0.001 * (i % 3)));
        Assert.InRange(monitor.Baseline, 0.01, 0.012);
    }

    [Theory]
    [InlineData(4.0, SurpriseAction.Replan)]
    [InlineData(8.0, SurpriseAction.Pause)]
    [InlineData(20.0, SurpriseAction.Stop)]
    public void A_jump_against_the_baseline_escalates_by_factor(double factor, SurpriseAction expected)
    {
        var monitor = new SurpriseMonitor(new SurpriseOptions { WarmupBlocks = 3, ReplanFactor = 3, PauseFactor = 6, StopFactor = 12 });
        for (var i = 0; i < 10; i++) monitor.Observe(0.01);
        Assert.Equal(expected, monitor.Observe(0.01 * factor));
        Assert.Equal(factor, monitor.LastRatio, 6);
    }

    [Fact]
    public void Surprises_do_not_raise_the_baseline()
    {
        var monitor = new SurpriseMonitor(new SurpriseOptions { WarmupBlocks = 2 });
        for (var i = 0; i < 5; i++) monitor.Observe(0.01);
        var before = monitor.Baseline;
        monitor.Observe(1.0);
        Assert.Equal(before, monitor.Baseline);
    }

    [Fact]
    public void No_threshold_applies_during_warmup()
    {
        var monitor = new SurpriseMonitor(new SurpriseOptions { WarmupBlocks = 3 });
        Assert.Equal(SurpriseAction.None, monitor.Observe(0.01));
        Assert.Equal(SurpriseAction.None, monitor.Observe(10));
        Assert.True(double.IsNaN(monitor.LastRatio));
    }

    [Fact]
    public void A_non_finite_surprise_stops()
    {
        var monitor = new SurpriseMonitor(new SurpriseOptions());
        Assert.Equal(SurpriseAction.Stop, monitor.Observe(double.NaN));
    }
}
