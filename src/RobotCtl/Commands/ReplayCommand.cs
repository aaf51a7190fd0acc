using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using RobotCtl.Episodes;
using RobotCtl.Hardware;
using RobotCtl.Hardware.Safety;
using RobotCtl.Host.Composition;
using RobotCtl.Runtime.Composition;
using RobotCtl.Runtime.Devices;
using RobotCtl.Runtime;

namespace RobotCtl.Host.Commands;

/// <summary>`robotctl replay`: recompute a recorded episode and show where it diverges; optionally re-send it to an arm.</summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var episode = new Argument<string>("episode") { Description = "Episode file path or id (file name without extension) in the episode directory" };
        var dir = new Option<string?>("--dir") { Description = "Episode directory [Recording:Directory]" };
        var from = new Option<long?>("--from") { Description = "First step to report" };
        var to = new Option<long?>("--to") { Description = "Last step to report" };
        var speed = new Option<double>("--speed") { Description = "Replay speed: 1 paces steps (and --to-arm commands) at the recorded times, 2 twice as fast; 0 as fast as possible (analysis only)", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "One JSON object per line per step, then a summary object" };
        var model = new Option<string?>("--model") { Description = "Use this model directory instead of the recorded one" };
        var toArm = new Option<string?>("--to-arm") { Description = "Re-send the recorded commands to this arm (sim, or an arm profile), through the safety governor; needs --confirm" };
        var confirm = new Option<bool>("--confirm") { Description = "Confirm that the arm may move (with --to-arm)" };
        var tolerance = new Option<double>("--tolerance") { Description = "Largest difference that still counts as reproduced", DefaultValueFactory = _ => 1e-5 };
        var command = new Command("replay",
            "Replay an episode: feed its recorded frames through the same preprocessing and encoder, re-plan from the recorded " +
            "latents with the same seeds, settings, warm starts and goal switches, and report per step where the recomputed " +
            "latents, plans and commands diverge from the recorded ones. Exit 0 when every plan reproduces, 1 when any diverges, 2 bad input.")
        {
            episode, dir, from, to, speed, json, model, toArm, confirm, tolerance,
        };
        command.SetAction((r, ct) => RunAsync(r.GetValue(episode)!, r.GetValue(dir), r.GetValue(from), r.GetValue(to), r.GetValue(speed),
            r.GetValue(json), r.GetValue(model), r.GetValue(toArm), r.GetValue(confirm), r.GetValue(tolerance), ct));
        return command;
    }

    private static async Task<int> RunAsync(string episodeName, string? dir, long? from, long? to, double speed, bool json,
        string? modelOverride, string? toArm, bool confirm, double tolerance, CancellationToken ct)
    {
        if (toArm is not null && !confirm) return CliErrors.Fail("replay", new ArgumentException("--to-arm moves a real arm: add --confirm to proceed"));
        if (toArm is null && confirm) return CliErrors.Fail("replay", new ArgumentException("--confirm: only with --to-arm (it confirms that the arm may move); nothing would be sent"));
        if (speed < 0 || !double.IsFinite(speed)) return CliErrors.Fail("replay", new ArgumentException($"--speed: expected >= 0, found {speed}"));
        // Steps are numbered from 0; a negative or inverted range would silently report nothing or everything.
        if (from is < 0) return CliErrors.Fail("replay", new ArgumentException($"--from: expected a step >= 0, found {from}"));
        if (to is < 0) return CliErrors.Fail("replay", new ArgumentException($"--to: expected a step >= 0, found {to}"));
        if (from is { } f && to is { } t && f > t) return CliErrors.Fail("replay", new ArgumentException($"--from {f} --to {t}: expected --from <= --to"));
        if (!(tolerance >= 0) || !double.IsFinite(tolerance))
            return CliErrors.Fail("replay", new ArgumentException($"--tolerance: expected a finite number >= 0, found {tolerance.ToString(System.Globalization.CultureInfo.InvariantCulture)}"));
        try
        {
            var config = AppConfiguration.Build();
            var directory = RobotCtlHome.Resolve(dir ?? config[RecordingOptions.DirectoryKey] ?? EpisodeCatalog.DefaultDirectory);
            using var reader = EpisodeReader.Open(EpisodeCatalog.Resolve(episodeName, directory));
            var info = reader.Info;

            // The run's own settings, calibration and model, so the planner is built exactly as it was.
            using var session = ReplaySession.Open(reader, modelOverride, tolerance, toArm, HostServices.Devices());
            var settings = session.Settings;
            var modelDir = session.ModelDirectory;
            var replayer = session.Replayer;

            var plans = reader.Plans().ToDictionary(p => p.Step, p => p.Ticks);
            // A range that selects no plan would replay nothing and still say "0 diverged".
            if ((from is not null || to is not null) && plans.Count > 0 && !plans.Keys.Any(k => k >= (from ?? long.MinValue) && k <= (to ?? long.MaxValue)))
                return CliErrors.Fail("replay", new ArgumentException(
                    $"{(from is not null ? $"--from {from}" : "")}{(from is not null && to is not null ? " " : "")}{(to is not null ? $"--to {to}" : "")}: " +
                    $"episode {info.Id} has plans at steps {plans.Keys.Min()}..{plans.Keys.Max()}; the range selects none"));
            if (!json)
            {
                Console.WriteLine($"replay {info.Id}: {info.Source}, model {Path.GetFileName(modelDir)}, recorded {info.StartTimeUtc:u}, outcome {info.Outcome ?? "(not closed)"}");
                Console.WriteLine("   step   latent diff   plan diff   cost recorded   cost replayed  iters  cmds  cmd diff  ctx   verdict");
            }
            var steps = 0;
            var diverged = 0;
            var worstPlan = 0.0;
            var worstLatent = 0.0;
            var t0 = Core.Timing.MonotonicClock.Now;
            long? firstTicks = null;
            foreach (var s in replayer.Replay(reader, from ?? long.MinValue, to ?? long.MaxValue))
            {
                ct.ThrowIfCancellationRequested();
                if (speed > 0 && plans.TryGetValue(s.Step, out var ticks))
                {
                    firstTicks ??= ticks;
                    var due = TimeSpan.FromSeconds((ticks - firstTicks.Value) / (double)info.TickFrequency / speed) - Core.Timing.MonotonicClock.Elapsed(t0);
                    if (due > TimeSpan.Zero) await Task.Delay(due, ct);
                }
                steps++;
                if (s.Diverges) diverged++;
                worstPlan = Math.Max(worstPlan, s.PlanDiff);
                if (!double.IsNaN(s.LatentDiff)) worstLatent = Math.Max(worstLatent, s.LatentDiff);
                if (json)
                    Console.WriteLine(JsonSerializer.Serialize(new
                    {
                        step = s.Step, latent_diff = Finite(s.LatentDiff), plan_diff = s.PlanDiff, cost_recorded = s.RecordedCost,
                        cost_replayed = s.ReplayedCost, iterations = s.Iterations, commands = s.CommandsCompared, command_diff = s.CommandDiff,
                        context_frames = s.ContextFrames, context_diff = s.ContextDiff, diverges = s.Diverges,
                    }));
                else
                    Console.WriteLine($"  {s.Step,5}  {s.LatentDiff,12:E2}  {s.PlanDiff,10:E2}  {s.RecordedCost,14:G6}  {s.ReplayedCost,14:G6}  {s.Iterations,5}  {s.CommandsCompared,4}  {s.CommandDiff,8:E2}  {s.ContextFrames,3}   {(s.Diverges ? "DIVERGES" : "reproduced")}");
            }
            if (json)
                Console.WriteLine(JsonSerializer.Serialize(new { episode = info.Id, steps, diverged, max_plan_diff = worstPlan, max_latent_diff = worstLatent }));
            else
                Console.WriteLine($"replay {info.Id}: {steps} plan(s), {diverged} diverged; max plan difference {worstPlan:E2}, max latent difference {worstLatent:E2} " +
                    "(latents differ by frame compression when frames were recorded as JPEG)");

            if (toArm is not null)
            {
                // The arm, its profile and the governor come from the same composition as a run's.
                using var loggers = LoggerFactory.Create(b => b.AddStderrConsole(timestampFormat: null));
                var factory = session.Factory;
                await using var arm = factory.CreateArmLink(new RunWorld());
                await arm.ConnectAsync(ct);
                var governor = factory.CreateGovernor();
                var resender = new CommandReplayer(arm, governor, loggers.CreateLogger<CommandReplayer>());
                var commands = reader.Commands().ToList();
                var start = reader.ArmStates().Select(a => (Core.Arm.ArmState?)a.State).FirstOrDefault();
                Console.WriteLine($"re-sending {commands.Count} recorded command(s) to {arm.Description} at {(speed > 0 ? speed : 1)}x");
                await resender.RunAsync(commands, start, info.TickFrequency, speed > 0 ? speed : 1, factory.CommandRateHz, ct);
                Console.WriteLine($"sent {resender.Sent}, refused by the governor {resender.Refused}; the arm is holding");
            }
            return diverged == 0 ? ExitCodes.Success : ExitCodes.Failed;
        }
        catch (OperationCanceledException)
        {
            return ExitCodes.Interrupted;
        }
        catch (Exception e)
        {
            return CliErrors.Fail("replay", e);
        }
    }

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;
}
