using FsCheck;
using FsCheck.Fluent;
using RobotCtl.Core.Arm;
using RobotCtl.Core.Timing;
using RobotCtl.Hardware.Safety;

namespace RobotCtl.Hardware.Tests;

public class GovernorTests
{
    private static readonly SafetyLimits Limits = new()
    {
        MaxStep = [0.02f, 0.02f, 0.02f, 0.05f, 0.05f, 0.05f, 0.2f],
        WorkspaceMin = [-0.3, -0.3, 0.0],
        WorkspaceMax = [0.3, 0.3, 0.3],
        MaxRateHz = 50,
        CommandWatchdog = TimeSpan.FromMilliseconds(100),
        MaxStateAge = TimeSpan.FromMilliseconds(500),
    };

    private static readonly long Ms = MonotonicClock.FromTimeSpan(TimeSpan.FromMilliseconds(1));
    private const long T0 = 1_000_000_000_000;

    private static ArmState StateAt(double x, double y, double z, double g, long ticks) => new(x, y, z, 0, 0, 0, g, ticks, 1);

    [Fact]
    public void Passes_a_small_command_unchanged()
    {
        var g = new SafetyGovernor(Limits);
        var c = new EeCommand(0.01f, -0.01f, 0.005f, 0.01f, 0, -0.02f, 0.1f);
        var r = g.Govern(c, true, StateAt(0, 0, 0.1, 0.5, T0), T0);
        Assert.Equal(c, r.Command);
        Assert.True(r.Transmit);
        Assert.Equal(GovernorFlags.None, r.Flags);
    }

    [Fact]
    public void Clamps_each_axis_to_its_max_step_and_counts_it()
    {
        var g = new SafetyGovernor(Limits);
        var r = g.Govern(new EeCommand(0.5f, -0.5f, 0, 1, -1, 0, 0.9f), true, StateAt(0, 0, 0.1, 0.5, T0), T0);
        Assert.Equal(new EeCommand(0.02f, -0.02f, 0, 0.05f, -0.05f, 0, 0.2f), r.Command);
        Assert.True(r.Has(GovernorFlags.StepClamped));
        Assert.Equal(1, g.CountOf(GovernorFlags.StepClamped));
        Assert.Equal(SafetyGovernor.Reasons.Step, r.Reason);
    }

    [Fact]
    public void Clamps_the_delta_so_the_predicted_position_stays_in_the_box()
    {
        var g = new SafetyGovernor(Limits);
        var r = g.Govern(new EeCommand(0.02f, 0, -0.02f, 0, 0, 0, 0), true, StateAt(0.29, 0, 0.005, 0, T0), T0);
        Assert.True(r.Has(GovernorFlags.WorkspaceClamped));
        Assert.InRange(0.29 + r.Command.Dx, 0.29, 0.3);
        Assert.InRange(0.005 + r.Command.Dz, 0.0, 0.005);
        Assert.Equal(0.01, r.Command.Dx, 1e-6);
    }

    [Fact]
    public void An_arm_outside_the_box_may_move_back_but_not_further_out()
    {
        var g = new SafetyGovernor(Limits);
        var outward = g.Govern(new EeCommand(0.01f, 0, 0, 0, 0, 0, 0), true, StateAt(0.35, 0, 0.1, 0, T0), T0);
        Assert.Equal(0f, outward.Command.Dx);
        var inward = g.Govern(new EeCommand(-0.01f, 0, 0, 0, 0, 0, 0), true, StateAt(0.35, 0, 0.1, 0, T0 + 100 * Ms), T0 + 100 * Ms);
        Assert.Equal(-0.01f, inward.Command.Dx);
    }

    [Fact]
    public void Refuses_NaN_and_infinity_with_hold()
    {
        var g = new SafetyGovernor(Limits);
        var r = g.Govern(new EeCommand(float.NaN, 0, 0, 0, 0, 0, 0), true, StateAt(0, 0, 0.1, 0, T0), T0);
        Assert.True(r.Command.IsHold);
        Assert.True(r.Has(GovernorFlags.NonFinite));
        r = g.Govern(new EeCommand(0, 0, 0, 0, float.PositiveInfinity, 0, 0), true, StateAt(0, 0, 0.1, 0, T0), T0 + 100 * Ms);
        Assert.True(r.Command.IsHold);
        Assert.Equal(2, g.CountOf(GovernorFlags.NonFinite));
    }

    [Fact]
    public void Refuses_when_the_state_is_missing_or_stale()
    {
        var g = new SafetyGovernor(Limits);
        var c = new EeCommand(0.01f, 0, 0, 0, 0, 0, 0);
        Assert.True(g.Govern(c, false, default, T0).Has(GovernorFlags.StaleState));
        var stale = g.Govern(c, true, StateAt(0, 0, 0.1, 0, T0), T0 + 501 * Ms);
        Assert.True(stale.Command.IsHold);
        Assert.True(stale.Has(GovernorFlags.StaleState));
        var fresh = g.Govern(c, true, StateAt(0, 0, 0.1, 0, T0 + 600 * Ms), T0 + 700 * Ms);
        Assert.Equal(c, fresh.Command);
        Assert.Equal(2, g.CountOf(GovernorFlags.StaleState));
    }

    [Fact]
    public void Rate_limit_refuses_to_transmit_faster_than_MaxRateHz()
    {
        var g = new SafetyGovernor(Limits); // 50 Hz: 20 ms
        var s = StateAt(0, 0, 0.1, 0, T0);
        var c = new EeCommand(0.001f, 0, 0, 0, 0, 0, 0);
        Assert.True(g.Govern(c, true, s, T0).Transmit);
        var tooSoon = g.Govern(c, true, s, T0 + 19 * Ms);
        Assert.False(tooSoon.Transmit);
        Assert.True(tooSoon.Has(GovernorFlags.RateLimited));
        Assert.True(g.Govern(c, true, s, T0 + 20 * Ms).Transmit);
        Assert.Equal(1, g.CountOf(GovernorFlags.RateLimited));
    }

    [Fact]
    public void EStop_latches_until_an_explicit_rearm()
    {
        var g = new SafetyGovernor(Limits);
        g.EStop("operator button");
        var c = new EeCommand(0.01f, 0, 0, 0, 0, 0, 0);
        for (var i = 0; i < 5; i++)
        {
            var r = g.Govern(c, true, StateAt(0, 0, 0.1, 0, T0 + i * 30 * Ms), T0 + i * 30 * Ms);
            Assert.True(r.Command.IsHold);
            Assert.True(r.Has(GovernorFlags.EStopLatched));
        }
        Assert.True(g.IsEStopped);
        g.Rearm("test");
        Assert.False(g.IsEStopped);
        Assert.Equal(c, g.Govern(c, true, StateAt(0, 0, 0.1, 0, T0 + 200 * Ms), T0 + 200 * Ms).Command);
        Assert.Equal(5, g.CountOf(GovernorFlags.EStopLatched));
    }

    [Fact]
    public void Watchdog_fires_once_the_configured_time_passes_without_a_command()
    {
        var g = new SafetyGovernor(Limits); // watchdog 100 ms
        var s = StateAt(0, 0, 0.1, 0, T0);
        Assert.False(g.Tick(T0).Transmit); // no command yet: nothing to send, nothing fired
        g.Govern(new EeCommand(0.01f, 0, 0, 0, 0, 0, 0), true, s, T0);
        var early = g.Tick(T0 + 100 * Ms);
        Assert.False(early.Transmit);
        Assert.False(early.Has(GovernorFlags.WatchdogExpired));
        var fired = g.Tick(T0 + 101 * Ms);
        Assert.True(fired.Has(GovernorFlags.WatchdogExpired));
        Assert.True(fired.Transmit);
        Assert.True(fired.Command.IsHold);
        Assert.True(g.WatchdogExpired);
        g.Tick(T0 + 150 * Ms);
        Assert.Equal(1, g.CountOf(GovernorFlags.WatchdogExpired)); // one expiry, counted once
        g.Govern(new EeCommand(0.01f, 0, 0, 0, 0, 0, 0), true, StateAt(0, 0, 0.1, 0, T0 + 200 * Ms), T0 + 200 * Ms);
        Assert.False(g.WatchdogExpired);
    }

    [Fact]
    public void Govern_allocates_nothing_per_command()
    {
        var g = new SafetyGovernor(Limits);
        var c = new EeCommand(0.5f, 0, 0, 0, 0, 0, 0);
        for (var i = 0; i < 100; i++) g.Govern(c, true, StateAt(0, 0, 0.1, 0, T0 + i * 20 * Ms), T0 + i * 20 * Ms);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 100; i < 1100; i++) g.Govern(c, true, StateAt(0.29, 0, 0.1, 0, T0 + i * 20 * Ms), T0 + i * 20 * Ms);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    // ---- properties ----

    private static Gen<float> AnyFloat =>
        Gen.Frequency(
            (6, Gen.Choose(-100000, 100000).Select(i => i / 10000f)),
            (1, Gen.Elements(float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, float.MinValue, float.Epsilon, -0f)));

    private static Gen<double> Coordinate => Gen.Choose(-5000, 5000).Select(i => i / 10000.0); // -0.5 .. 0.5: inside and outside the box

    private sealed record Case(float[] Command, double[] Pose, bool HasState, int StateAgeMs, int GapMs);

    private static Arbitrary<Case[]> Cases =>
        (from cmd in Gen.ArrayOf(AnyFloat, 7)
         from pose in Gen.ArrayOf(Coordinate, 4)
         from hasState in Gen.Frequency((9, Gen.Constant(true)), (1, Gen.Constant(false)))
         from age in Gen.Choose(0, 700)
         from gap in Gen.Choose(0, 60)
         select new Case(cmd, pose, hasState, age, gap)).ArrayOf().ToArbitrary();

    [Fact]
    public void Property_no_output_exceeds_a_limit_and_no_NaN_passes()
    {
        Prop.ForAll(Cases, cases =>
        {
            var g = new SafetyGovernor(Limits);
            var now = T0;
            long lastTransmit = long.MinValue;
            foreach (var k in cases)
            {
                now += k.GapMs * Ms;
                var state = StateAt(k.Pose[0], k.Pose[1], k.Pose[2], Math.Clamp(k.Pose[3] + 0.5, 0, 1), now - k.StateAgeMs * Ms);
                var r = g.Govern(EeCommand.FromSpan(k.Command), k.HasState, state, now);
                var c = r.Command;
                if (!c.IsFinite) return false;
                for (var i = 0; i < 7; i++) if (Math.Abs(c[i]) > Limits.MaxStep[i]) return false;
                double[] p = [state.X, state.Y, state.Z];
                for (var i = 0; i < 3; i++)
                {
                    var target = p[i] + c[i];
                    // Inside stays inside; outside never moves further out.
                    if (target > Math.Max(Limits.WorkspaceMax[i], p[i]) || target < Math.Min(Limits.WorkspaceMin[i], p[i])) return false;
                }
                if (state.Gripper + c.Gripper is > 1 or < 0) return false;
                if (r.WasRefused && !c.IsHold) return false;
                if (r.Transmit)
                {
                    if (lastTransmit != long.MinValue && now - lastTransmit < MonotonicClock.FromTimeSpan(TimeSpan.FromSeconds(1 / Limits.MaxRateHz))) return false;
                    lastTransmit = now;
                }
                if (!EeCommand.FromSpan(k.Command).IsFinite && !r.Has(GovernorFlags.NonFinite) && !r.Has(GovernorFlags.EStopLatched) && !r.Has(GovernorFlags.RateLimited)) return false;
            }
            return true;
        }).Check(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    [Fact]
    public void Property_a_latched_estop_lets_nothing_through()
    {
        Prop.ForAll(Cases, cases =>
        {
            var g = new SafetyGovernor(Limits);
            g.EStop("property");
            var now = T0;
            foreach (var k in cases)
            {
                now += k.GapMs * Ms;
                var r = g.Govern(EeCommand.FromSpan(k.Command), true, StateAt(0, 0, 0.1, 0.5, now), now);
                if (!r.Command.IsHold || !r.Has(GovernorFlags.EStopLatched)) return false;
                if (!g.Tick(now + k.GapMs * Ms).Command.IsHold) return false;
            }
            return g.IsEStopped;
        }).Check(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(200));
    }
}
