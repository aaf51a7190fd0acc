using FsCheck;
using FsCheck.Fluent;
using RobotCtl.Core.Arm;
using RobotCtl.Core.Timing;
using RobotCtl.Hardware.Safety;

namespace RobotCtl.Hardware.Tests;

public class GovernorTests
{
    internal static readonly SafetyLimits Limits = new()
    {
        MaxStep = [0.02f, 0.02f, 0.02f, 0.05f, 0.05f, 0.05f, 0.2f],
        WorkspaceMin = [-0.3, -0.3, 0.0],
        WorkspaceMax = [0.3, 0.3, 0.3],
        MaxRateHz = 50,
        CommandWatchdog = TimeSpan.FromMilliseconds(100),
        MaxStateAge = TimeSpan.FromMilliseconds(500),
    };

    internal static readonly long Ms = MonotonicClock.FromTimeSpan(TimeSpan.FromMilliseconds(1));
    internal const long T0 = 1_000_000_000_000;

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
        var missing = g.Govern(c, false, default, T0);
        Assert.True(missing.Has(GovernorFlags.StaleState));
        Assert.Equal(SafetyGovernor.Reasons.NoState, missing.Reason);
        var stale = g.Govern(c, true, StateAt(0, 0, 0.1, 0, T0), T0 + 501 * Ms);
        Assert.True(stale.Command.IsHold);
        Assert.True(stale.Has(GovernorFlags.StaleState));
        Assert.Equal(SafetyGovernor.Reasons.Stale, stale.Reason);
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
        var tick = 100; // time moves on across measured windows
        Assert.Equal(0, Allocations.Of(() =>
        {
            g.Govern(c, true, StateAt(0.29, 0, 0.1, 0, T0 + tick * 20 * Ms), T0 + tick * 20 * Ms);
            tick++;
        }, times: 1000));
    }

    // ---- commands in flight since the last state ----

    private static SafetyGovernorOptions WithLatency(int ms) => new() { StateLatency = TimeSpan.FromMilliseconds(ms) };

    [Fact]
    public void Ten_steps_against_one_state_near_the_edge_add_up_to_the_edge_not_past_it()
    {
        // The reviewer's case: 10 x +0.02 m at 20 Hz, all checked against one young state at x = 0.29 (edge 0.30).
        // Checked one by one against the state each passed; the in-flight sum lets only 0.01 m through in all.
        var g = new SafetyGovernor(Limits);
        var state = StateAt(0.29, 0, 0.1, 0, T0);
        var x = 0.29;
        for (var i = 0; i < 10; i++)
        {
            var r = g.Govern(new EeCommand(0.02f, 0, 0, 0, 0, 0, 0), true, state, T0 + i * 50 * Ms);
            Assert.True(r.Transmit);
            x += r.Command.Dx;
            Assert.True(x <= 0.3 + 1e-12, $"after command {i} the arm would be at x = {x}");
        }
        Assert.Equal(0.3, x, 1e-6);
        Assert.Equal(10, g.CountOf(GovernorFlags.WorkspaceClamped));
    }

    [Fact]
    public void Steps_accumulate_until_a_newer_state_restarts_the_sum()
    {
        var g = new SafetyGovernor(Limits, WithLatency(0));
        var first = StateAt(0.20, 0, 0.1, 0, T0);
        for (var i = 0; i < 5; i++) Assert.Equal(0.02f, g.Govern(new EeCommand(0.02f, 0, 0, 0, 0, 0, 0), true, first, T0 + i * 50 * Ms).Command.Dx);
        Assert.Equal(0f, g.Govern(new EeCommand(0.02f, 0, 0, 0, 0, 0, 0), true, first, T0 + 250 * Ms).Command.Dx, 1e-6f); // 0.20 + 5 x 0.02 = edge
        // The arm reports 0.26 after all of them (two were lost on the way): the sum restarts from the new state.
        var newer = StateAt(0.26, 0, 0.1, 0, T0 + 260 * Ms);
        Assert.Equal(0.02f, g.Govern(new EeCommand(0.02f, 0, 0, 0, 0, 0, 0), true, newer, T0 + 300 * Ms).Command.Dx);
        Assert.Equal(0.02f, g.Govern(new EeCommand(0.02f, 0, 0, 0, 0, 0, 0), true, newer, T0 + 350 * Ms).Command.Dx);
        Assert.Equal(0f, g.Govern(new EeCommand(0.02f, 0, 0, 0, 0, 0, 0), true, newer, T0 + 400 * Ms).Command.Dx, 1e-6f);
    }

    [Fact]
    public void Commands_let_through_after_the_state_was_stamped_stay_in_flight()
    {
        var g = new SafetyGovernor(Limits, WithLatency(0));
        var a = StateAt(0.22, 0, 0.1, 0, T0);
        var step = new EeCommand(0.02f, 0, 0, 0, 0, 0, 0);
        g.Govern(step, true, a, T0 + 10 * Ms); // -> 0.24
        g.Govern(step, true, a, T0 + 60 * Ms); // -> 0.26
        // Stamped between the two: shows the first (0.24), not the second, which stays in flight.
        var b = StateAt(0.24, 0, 0.1, 0, T0 + 50 * Ms);
        Assert.Equal(0.02f, g.Govern(step, true, b, T0 + 110 * Ms).Command.Dx); // 0.24 + 0.02 in flight + 0.02 = 0.28
        Assert.Equal(0.02f, g.Govern(step, true, b, T0 + 160 * Ms).Command.Dx, 1e-6f); // 0.30
        Assert.Equal(0f, g.Govern(step, true, b, T0 + 210 * Ms).Command.Dx, 1e-6f);
    }

    [Fact]
    public void A_state_stamped_before_the_last_command_shows_is_covered_by_StateLatency()
    {
        // The arm at 0.27 is sent +0.02 at T0; a state stamped 10 ms later still shows 0.27 (the command was on its
        // way). Taking the state at its word would allow another +0.02: 0.31.
        var step = new EeCommand(0.02f, 0, 0, 0, 0, 0, 0);
        var late = StateAt(0.27, 0, 0.1, 0, T0 + 10 * Ms);

        var g = new SafetyGovernor(Limits); // default StateLatency 100 ms
        Assert.Equal(0.02f, g.Govern(step, true, StateAt(0.27, 0, 0.1, 0, T0), T0).Command.Dx);
        var r = g.Govern(step, true, late, T0 + 20 * Ms);
        Assert.Equal(0.01, r.Command.Dx, 1e-6);
        Assert.True(r.Has(GovernorFlags.WorkspaceClamped));

        var naive = new SafetyGovernor(Limits, WithLatency(0));
        naive.Govern(step, true, StateAt(0.27, 0, 0.1, 0, T0), T0);
        Assert.Equal(0.02f, naive.Govern(step, true, late, T0 + 20 * Ms).Command.Dx); // why the default is not 0
    }

    [Fact]
    public void A_lost_inward_command_does_not_buy_room_outward()
    {
        // -0.02 is let through but the link drops it; counting it as done would let +0.02 through from "0.27".
        var g = new SafetyGovernor(Limits, WithLatency(0));
        var s = StateAt(0.29, 0, 0.1, 0, T0);
        Assert.Equal(-0.02f, g.Govern(new EeCommand(-0.02f, 0, 0, 0, 0, 0, 0), true, s, T0 + 10 * Ms).Command.Dx);
        var r = g.Govern(new EeCommand(0.02f, 0, 0, 0, 0, 0, 0), true, s, T0 + 30 * Ms);
        Assert.Equal(0.01, r.Command.Dx, 1e-6);
    }

    [Fact]
    public void Gripper_steps_in_flight_keep_the_predicted_closedness_in_range()
    {
        var g = new SafetyGovernor(Limits);
        var s = StateAt(0, 0, 0.1, 0.5, T0);
        var total = 0f;
        for (var i = 0; i < 4; i++) total += g.Govern(new EeCommand(0, 0, 0, 0, 0, 0, 0.2f), true, s, T0 + i * 50 * Ms).Command.Gripper;
        Assert.Equal(0.5f, total, 1e-6f);
        Assert.True(g.CountOf(GovernorFlags.GripperClamped) >= 2);
    }

    [Fact]
    public void A_full_in_flight_ring_holds_but_still_lets_rotation_through()
    {
        var g = new SafetyGovernor(Limits, SafetyGovernorOptions.Default, null, inFlightCapacity: 2);
        var s = StateAt(0, 0, 0.1, 0, T0);
        Assert.False(g.Govern(new EeCommand(0.001f, 0, 0, 0, 0, 0, 0), true, s, T0).WasRefused);
        Assert.False(g.Govern(new EeCommand(0.001f, 0, 0, 0, 0, 0, 0), true, s, T0 + 20 * Ms).WasRefused);
        var full = g.Govern(new EeCommand(0.001f, 0, 0, 0, 0, 0, 0), true, s, T0 + 40 * Ms);
        Assert.True(full.Command.IsHold);
        Assert.True(full.Has(GovernorFlags.StaleState));
        Assert.Equal(SafetyGovernor.Reasons.InFlightFull, full.Reason);
        var turn = new EeCommand(0, 0, 0, 0, 0, 0.01f, 0);
        Assert.Equal(turn, g.Govern(turn, true, s, T0 + 60 * Ms).Command);
        // Once both have aged past MaxStateAge + StateLatency (600 ms), the ring has room again.
        var later = StateAt(0.002, 0, 0.1, 0, T0 + 700 * Ms);
        Assert.False(g.Govern(new EeCommand(0.001f, 0, 0, 0, 0, 0, 0), true, later, T0 + 700 * Ms).WasRefused);
    }

    [Fact]
    public void The_ring_is_sized_from_the_rate_the_state_age_and_the_latency()
    {
        // 50 Hz over 500 ms + 100 ms: 30 intervals, +1 for the fencepost, +1 for the command being added.
        Assert.Equal(32, new SafetyGovernor(Limits).InFlightCapacity);
        var absurd = Limits with { MaxRateHz = 1e9, MaxStateAge = TimeSpan.FromDays(1) };
        Assert.Equal(SafetyGovernor.MaxInFlightCapacity, new SafetyGovernor(absurd).InFlightCapacity);
    }

    // ---- timestamps ----

    [Theory]
    [InlineData(3_600_000.0, SafetyGovernor.Reasons.StateFuture)] // an hour ahead
    [InlineData(51.0, SafetyGovernor.Reasons.StateFuture)]        // just past the 50 ms tolerance
    public void A_state_stamped_in_the_future_is_not_fresh(double aheadMs, string reason)
    {
        var g = new SafetyGovernor(Limits);
        var r = g.Govern(new EeCommand(0.01f, 0, 0, 0, 0, 0, 0), true, StateAt(0, 0, 0.1, 0, T0 + (long)(aheadMs * Ms)), T0);
        Assert.True(r.Command.IsHold);
        Assert.True(r.Has(GovernorFlags.StaleState));
        Assert.Equal(reason, r.Reason);
        Assert.True(r.Transmit); // the hold itself is sent
    }

    [Fact]
    public void A_state_stamped_slightly_after_now_is_fresh()
    {
        // Links stamp on their own thread: a state can arrive between the caller reading the clock and the state.
        var g = new SafetyGovernor(Limits);
        var c = new EeCommand(0.01f, 0, 0, 0, 0, 0, 0);
        Assert.Equal(c, g.Govern(c, true, StateAt(0, 0, 0.1, 0, T0 + 40 * Ms), T0).Command);
    }

    [Fact]
    public void A_future_stamp_that_comes_due_does_not_make_an_old_state_fresh()
    {
        // Stamped 1 s ahead and shown from T0 on: refused as future, then as stale, since the governor has seen it
        // for longer than MaxStateAge although its stamp is only 100 ms old.
        var g = new SafetyGovernor(Limits);
        var c = new EeCommand(0.01f, 0, 0, 0, 0, 0, 0);
        var s = StateAt(0, 0, 0.1, 0, T0 + 1000 * Ms);
        Assert.Equal(SafetyGovernor.Reasons.StateFuture, g.Govern(c, true, s, T0).Reason);
        Assert.Equal(SafetyGovernor.Reasons.Stale, g.Govern(c, true, s, T0 + 1100 * Ms).Reason);
        // The same pose with a new stamp is a new state.
        Assert.Equal(c, g.Govern(c, true, s with { TimestampTicks = T0 + 1120 * Ms }, T0 + 1120 * Ms).Command);
    }

    [Theory]
    [InlineData(long.MinValue, SafetyGovernor.Reasons.StateTimeInvalid)]
    [InlineData(-1L, SafetyGovernor.Reasons.StateTimeInvalid)]
    [InlineData(0L, SafetyGovernor.Reasons.StateTimeInvalid)]
    [InlineData(long.MaxValue, SafetyGovernor.Reasons.StateFuture)]
    public void Absurd_state_timestamps_are_not_fresh(long ticks, string reason)
    {
        var g = new SafetyGovernor(Limits);
        var r = g.Govern(new EeCommand(0.01f, 0, 0, 0, 0, 0, 0), true, StateAt(0, 0, 0.1, 0, ticks), T0);
        Assert.True(r.Command.IsHold);
        Assert.True(r.Has(GovernorFlags.StaleState));
        Assert.Equal(reason, r.Reason);
    }

    [Fact]
    public void A_non_finite_state_is_named()
    {
        var g = new SafetyGovernor(Limits);
        var r = g.Govern(new EeCommand(0.01f, 0, 0, 0, 0, 0, 0), true, StateAt(double.NaN, 0, 0.1, 0, T0), T0);
        Assert.True(r.Command.IsHold);
        Assert.Equal(SafetyGovernor.Reasons.StateNotFinite, r.Reason);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-5L)]
    [InlineData(long.MinValue)]
    public void A_bogus_now_is_refused_and_poisons_neither_the_rate_limit_nor_the_watchdog(long bogus)
    {
        var g = new SafetyGovernor(Limits);
        var c = new EeCommand(0.01f, 0, 0, 0, 0, 0, 0);
        Assert.True(g.Govern(c, true, StateAt(0, 0, 0.1, 0, T0), T0).Transmit);
        var r = g.Govern(c, true, StateAt(0, 0, 0.1, 0, T0), bogus);
        Assert.True(r.Command.IsHold);
        Assert.False(r.Transmit);
        Assert.Equal(SafetyGovernor.Reasons.BadClock, r.Reason);
        Assert.False(g.Tick(bogus).Transmit);
        Assert.True(g.Govern(c, true, StateAt(0, 0, 0.1, 0, T0 + 20 * Ms), T0 + 20 * Ms).Transmit);
        Assert.True(g.Tick(T0 + 200 * Ms).Has(GovernorFlags.WatchdogExpired));
    }

    [Fact]
    public void The_injected_clock_drives_Govern_and_Tick_without_sleeping()
    {
        var now = T0;
        var g = new SafetyGovernor(Limits, () => now);
        Assert.Equal(T0, g.Now);
        var c = new EeCommand(0.01f, 0, 0, 0, 0, 0, 0);
        Assert.Equal(c, g.Govern(c, true, StateAt(0, 0, 0.1, 0, now)).Command);
        now += 10 * Ms;
        Assert.True(g.Govern(c, true, StateAt(0, 0, 0.1, 0, now)).Has(GovernorFlags.RateLimited)); // still a command: feeds the watchdog
        now += 100 * Ms;
        Assert.False(g.Tick().Has(GovernorFlags.WatchdogExpired));
        now += 1 * Ms;
        Assert.True(g.Tick().Has(GovernorFlags.WatchdogExpired));
        var old = StateAt(0, 0, 0.1, 0, now);
        now += 501 * Ms;
        Assert.Equal(SafetyGovernor.Reasons.Stale, g.Govern(c, true, old).Reason);
        now += 20 * Ms;
        Assert.Equal(SafetyGovernor.Reasons.StateFuture, g.Govern(c, true, StateAt(0, 0, 0.1, 0, now + 3_600_000 * Ms)).Reason);
    }

    [Fact]
    public void Options_out_of_range_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new SafetyGovernor(Limits, new SafetyGovernorOptions { StateLatency = TimeSpan.FromMilliseconds(-1) }));
        Assert.Throws<ArgumentException>(() => new SafetyGovernor(Limits, new SafetyGovernorOptions { FutureTolerance = TimeSpan.FromHours(1) }));
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
