using FsCheck;
using FsCheck.Fluent;
using RobotCtl.Core.Arm;
using RobotCtl.Hardware.Safety;

namespace RobotCtl.Hardware.Tests;

/// <summary>
/// Properties over whole sequences: random interleavings of commands (in and out of bounds, NaN, huge), link drops,
/// watchdog ticks and states (fresh, lagging behind the commands, stale, future-dated, absurdly stamped, not finite),
/// against an ideal arm that executes every let-through command the moment it is let through (unless the link
/// drops it). A state reports that arm's pose as it was at a sample time no later than now, stamped at most
/// StateLatency after that (the governor is told the latency it must cover).
/// </summary>
public class GovernorSequenceTests
{
    private static readonly SafetyLimits Limits = GovernorTests.Limits;
    private static readonly long Ms = GovernorTests.Ms;
    private const long T0 = GovernorTests.T0;
    private const int MaxAgeMs = 500, ToleranceMs = 50;

    private enum Kind { Command, Drop, Tick, State }

    private enum StateKind { Consistent, Future, BadTicks, NotFinite, Missing }

    /// <summary>One event. Command: Values, GapMs. Tick: GapMs. State: StampOffsetMs (from now), LatencyMs, or Ticks.</summary>
    private sealed record Ev(Kind Kind, float[] Values, int GapMs, StateKind State, int StampOffsetMs, int LatencyMs, long Ticks)
    {
        public override string ToString() => Kind switch
        {
            Kind.Command => $"cmd +{GapMs}ms [{string.Join(" ", Values)}]",
            Kind.Tick => $"tick +{GapMs}ms",
            Kind.Drop => "drop next",
            _ => State switch
            {
                StateKind.Consistent => $"state stamped now{StampOffsetMs:+0;-0} ms, sampled {LatencyMs} ms before",
                StateKind.BadTicks => $"state ticks {Ticks}",
                _ => $"state {State} {StampOffsetMs}",
            },
        };
    }

    /// <summary>A start pose (x, y, z, gripper), a per-axis drift that pushes the arm against the walls, and events.</summary>
    private sealed record Scenario(double[] Start, int[] Drift, Ev[] Events)
    {
        public override string ToString() => $"start [{string.Join(" ", Start)}] drift [{string.Join(" ", Drift)}]\n  " + string.Join("\n  ", Events.Select(e => e.ToString()));
    }

    private static Gen<float> Special => Gen.Elements(float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, float.MinValue, 1e30f, -1e30f);

    private static Gen<float> Component(int drift) =>
        Gen.Frequency(
            (20, Gen.Choose(-300, 300).Select(i => i / 10000f + drift * 0.015f)), // around the step limit, biased
            (2, Gen.Choose(-100000, 100000).Select(i => i / 10000f)),            // up to +-10 (huge next to 0.02)
            (1, Special));

    private static Gen<Ev> Events(int[] drift, int latencyMs)
    {
        var cmd = from v0 in Component(drift[0]) from v1 in Component(drift[1]) from v2 in Component(drift[2])
                  from rot in Gen.ArrayOf(Component(0), 3) from vg in Component(drift[3])
                  from gap in Gen.Frequency((6, Gen.Choose(20, 60)), (1, Gen.Choose(0, 19)))
                  select new Ev(Kind.Command, [v0, v1, v2, rot[0], rot[1], rot[2], vg], gap, default, 0, 0, 0);
        var tick = Gen.Choose(0, 150).Select(gap => new Ev(Kind.Tick, [], gap, default, 0, 0, 0));
        var drop = Gen.Constant(new Ev(Kind.Drop, [], 0, default, 0, 0, 0));
        // Stamped from 900 ms ago (stale) up to min(latency, tolerance) ahead of now; sampled up to `latencyMs`
        // before the stamp but never after now.
        var consistent = from offset in Gen.Frequency(
                             (6, Gen.Choose(-60, Math.Min(latencyMs, ToleranceMs))),     // fresh
                             (3, Gen.Choose(-480, -60)),                                 // lagging behind the commands
                             (2, Gen.Choose(-900, -MaxAgeMs - 1)))                       // stale
                         from lat in Gen.Choose(0, latencyMs)
                         select new Ev(Kind.State, [], 0, StateKind.Consistent, offset, Math.Max(lat, offset), 0);
        var future = Gen.Frequency((3, Gen.Choose(ToleranceMs + 1, 5000)), (1, Gen.Constant(3_600_000)))
            .Select(ms => new Ev(Kind.State, [], 0, StateKind.Future, ms, 0, 0));
        var badTicks = Gen.Elements(0L, -1L, long.MinValue, long.MaxValue, long.MaxValue - 1, long.MinValue + 1)
            .Select(t => new Ev(Kind.State, [], 0, StateKind.BadTicks, 0, 0, t));
        var notFinite = Gen.Constant(new Ev(Kind.State, [], 0, StateKind.NotFinite, 0, 0, 0));
        var missing = Gen.Constant(new Ev(Kind.State, [], 0, StateKind.Missing, 0, 0, 0));
        return Gen.Frequency((24, cmd), (10, consistent), (2, future), (1, badTicks), (1, notFinite), (1, missing), (2, drop), (2, tick));
    }

    private static Arbitrary<Scenario> Scenarios(int latencyMs) =>
        (from start in Gen.ArrayOf(Gen.Choose(-3500, 3500).Select(i => i / 10000.0), 3)     // mostly inside, some outside
         from g in Gen.Choose(-200, 1200).Select(i => i / 1000.0)
         from drift in Gen.ArrayOf(Gen.Choose(-1, 1), 4)
         from n in Gen.Choose(20, 300)
         from events in Gen.ArrayOf(Events(drift, latencyMs), n)
         select new Scenario([start[0], start[1], start[2], g], drift, events)).ToArbitrary();

    private sealed class Seen { public long Clamped, FutureHeld, StaleHeld, BadHeld, NanHeld, Moved, Dropped; }

    [Theory]
    [InlineData(0, 700)]    // the state's stamp is its sample time
    [InlineData(100, 700)]  // the default StateLatency
    [InlineData(400, 600)]  // a slow link
    public void Property_the_ideal_arm_never_leaves_the_box_and_stale_or_bad_states_hold(int latencyMs, int runs)
    {
        var seen = new Seen();
        var options = new SafetyGovernorOptions { StateLatency = TimeSpan.FromMilliseconds(latencyMs) };
        Prop.ForAll(Scenarios(latencyMs), s => Run(s, options, seen)).Check(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(runs));
        // The properties are only worth something if the sequences reach the walls and the bad states.
        Assert.True(seen.Clamped > 0 && seen.Moved > 0 && seen.Dropped > 0, $"clamped {seen.Clamped}, moved {seen.Moved}, dropped {seen.Dropped}");
        Assert.True(seen.FutureHeld > 0 && seen.StaleHeld > 0 && seen.BadHeld > 0 && seen.NanHeld > 0,
            $"held: future {seen.FutureHeld}, stale {seen.StaleHeld}, bad ticks {seen.BadHeld}, NaN {seen.NanHeld}");
    }

    private static void Run(Scenario s, SafetyGovernorOptions options, Seen seen)
    {
        var g = new SafetyGovernor(Limits, options);
        Trace.Clear();
        double[] lo = [.. Limits.WorkspaceMin, 0], hi = [.. Limits.WorkspaceMax, 1];
        int[] axes = [0, 1, 2, 6];
        var pos = (double[])s.Start.Clone();
        var history = new List<(long Ticks, double[] Pose)>(); // pose after each applied command
        var now = T0;
        var hasState = false;
        var state = default(ArmState);
        var dropNext = false;

        double[] PoseSampledAt(long t)
        {
            // Everything applied strictly before t shows in a state sampled at t.
            for (var i = history.Count - 1; i >= 0; i--) if (history[i].Ticks < t) return history[i].Pose;
            return s.Start;
        }

        uint sequence = 0;
        long? firstGoverned = null; // when the current state was first shown to the governor
        ArmState At(double[] p, long ticks) => new(p[0], p[1], p[2], 0, 0, 0, p[3], ticks, ++sequence);

        foreach (var e in s.Events)
        {
            switch (e.Kind)
            {
                case Kind.Drop:
                    dropNext = true;
                    break;
                case Kind.Tick:
                {
                    now += e.GapMs * Ms;
                    var t = g.Tick(now);
                    Require(t.Command.IsHold, "Tick sent something other than hold", s);
                    break;
                }
                case Kind.State:
                    hasState = e.State != StateKind.Missing;
                    firstGoverned = null;
                    state = e.State switch
                    {
                        StateKind.Consistent => At(PoseSampledAt(now + (e.StampOffsetMs - e.LatencyMs) * Ms), now + e.StampOffsetMs * Ms),
                        StateKind.Future => At(pos, now + e.StampOffsetMs * Ms),
                        StateKind.BadTicks => At(pos, e.Ticks),
                        StateKind.NotFinite => At(pos, now) with { Y = double.NaN },
                        _ => default,
                    };
                    break;
                case Kind.Command:
                {
                    now += e.GapMs * Ms;
                    var proposed = EeCommand.FromSpan(e.Values);
                    firstGoverned ??= now;
                    var r = g.Govern(proposed, hasState, state, now);
                    var c = r.Command;
                    Require(c.IsFinite, $"non-finite output {c}", s);
                    for (var i = 0; i < EeCommand.Dim; i++) Require(Math.Abs(c[i]) <= Limits.MaxStep[i], $"axis {i} beyond its step: {c}", s);
                    if (r.WasRefused) Require(c.IsHold, "a refusal that is not hold", s);
                    if (!proposed.IsFinite) Require(c.IsHold && r.WasRefused, $"NaN/Inf passed: {proposed} -> {c}", s);

                    // Bad or old states hold, with their reason, whenever the rate limit lets the governor look.
                    var expected = Expected(hasState, state, now, firstGoverned.Value);
                    if (!r.Has(GovernorFlags.RateLimited) && proposed.IsFinite)
                    {
                        if (expected is null) Require(!r.WasRefused, $"refused a good state: {r.Reason}", s);
                        else
                        {
                            Require(c.IsHold && r.Has(GovernorFlags.StaleState) && r.Reason == expected, $"expected hold for '{expected}', got {r.Flags} '{r.Reason}' {c}", s);
                            if (expected == SafetyGovernor.Reasons.StateFuture) seen.FutureHeld++;
                            else if (expected == SafetyGovernor.Reasons.Stale) seen.StaleHeld++;
                            else if (expected == SafetyGovernor.Reasons.StateTimeInvalid) seen.BadHeld++;
                            else if (expected == SafetyGovernor.Reasons.StateNotFinite) seen.NanHeld++;
                        }
                    }
                    if (r.Has(GovernorFlags.WorkspaceClamped)) seen.Clamped++;

                    if (r.Transmit && !dropNext && !c.IsHold)
                    {
                        for (var k = 0; k < 4; k++) pos[k] += c[axes[k]];
                        history.Add((now, (double[])pos.Clone()));
                        seen.Moved++;
                    }
                    if (r.Transmit && dropNext) { dropNext = false; seen.Dropped++; }
                    Trace.Add($"t={(now - T0) / Ms} state={(hasState ? $"{state.X:F4},{state.Y:F4},{state.Z:F4}@{(state.TimestampTicks - T0) / (double)Ms}" : "-")} -> {r.Flags} {c} tx={r.Transmit} pos={pos[0]:F4},{pos[1]:F4},{pos[2]:F4},{pos[3]:F4}");

                    for (var k = 0; k < 4; k++)
                    {
                        // The invariant asked for: never outside the box by more than one step ...
                        var step = Limits.MaxStep[axes[k]];
                        Require(pos[k] <= Math.Max(hi[k], s.Start[k]) + step && pos[k] >= Math.Min(lo[k], s.Start[k]) - step,
                            $"axis {axes[k]} more than one step outside: {pos[k]}", s);
                        // ... and what the governor actually achieves: never outside at all (or further out than it started).
                        Require(pos[k] <= Math.Max(hi[k], s.Start[k]) + 1e-9 && pos[k] >= Math.Min(lo[k], s.Start[k]) - 1e-9,
                            $"axis {axes[k]} left the box: {pos[k]}", s);
                    }
                    break;
                }
            }
        }
    }

    /// <summary>The oracle's freshness rule (age from the earlier of stamp and first showing), written independently of the governor's.</summary>
    private static string? Expected(bool hasState, in ArmState state, long now, long firstShown)
    {
        if (!hasState) return SafetyGovernor.Reasons.NoState;
        if (!state.IsFinite) return SafetyGovernor.Reasons.StateNotFinite;
        if (state.TimestampTicks <= 0) return SafetyGovernor.Reasons.StateTimeInvalid;
        if ((decimal)state.TimestampTicks > now + (decimal)ToleranceMs * Ms) return SafetyGovernor.Reasons.StateFuture;
        if ((decimal)now - Math.Min(state.TimestampTicks, firstShown) > (decimal)MaxAgeMs * Ms) return SafetyGovernor.Reasons.Stale;
        return null;
    }

    [ThreadStatic] private static List<string>? _trace;
    private static List<string> Trace => _trace ??= [];

    private static void Require(bool condition, string message, Scenario s)
    {
        if (!condition) throw new InvalidOperationException(message + "\n" + s + "\nTRACE\n" + string.Join("\n", Trace));
    }
}
