using RobotCtl.Host.Composition;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RobotCtl.Core.Arm;
using RobotCtl.Core.Vision;
using RobotCtl.Core.WorldModel;
using RobotCtl.Episodes;
using RobotCtl.Planning;
using RobotCtl.Evaluation;
using RobotCtl.Hardware;
using RobotCtl.Runtime.Composition;
using RobotCtl.Runtime.Devices;
using RobotCtl.Runtime;
using RobotCtl.Inference.WorldModel;
using RobotCtl.Sim;
using RobotCtl.Sim.Tasks;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Host.Commands;

/// <summary>
/// `robotctl eval`: closed-loop success of a planner on a simulated task. Every episode runs the same runtime as
/// `run` (camera -> preprocessor -> encoder -> planner -> governor -> streamer -> arm) on a workcell set to the
/// episode's start, toward a goal image rendered from the episode's goal state; success is judged on the sim's true
/// state. Deterministic for a seed (docs/EVALUATION.md, "How eval runs").
/// </summary>
internal static class EvalCommand
{
    internal sealed record Arguments
    {
        public string? Task { get; init; }
        public int? Episodes { get; init; }
        public int Seed { get; init; }
        public string? Model { get; init; }
        public string Planner { get; init; } = "model";
        public int? Samples { get; init; }
        public int? Iterations { get; init; }
        public int? Horizon { get; init; }
        public string? Solver { get; init; }
        public string? CostShape { get; init; }
        public bool SubGoals { get; init; }
        public string? Record { get; init; }
        public bool Json { get; init; }
        public double? RateHz { get; init; }
        public IReadOnlyList<string> Sets { get; init; } = [];
        public bool Verbose { get; init; }
    }

    public static Command Create()
    {
        var task = new Option<string?>("--task") { Description = $"Task: {string.Join(", ", SimTask.Names)} (docs/EVALUATION.md)" };
        var episodes = new Option<int?>("--episodes") { Description = "Episodes to run: task episodes 0..N-1 of the seed" };
        var seed = new Option<int>("--seed") { Description = "Seed of the episodes (start and goal states) and of the planner (episode i plans with seed * 1000 + i); default 0" };
        var model = new Option<string?>("--model") { Description = "Model directory [Runtime:Model]; the oracle and random planners use its action space (mean, std, searched dimensions, block)" };
        var planner = new Option<string?>("--planner") { Description = $"model (CEM/MPPI over the world model, default), oracle (the same solver scoring candidates on a copy of the sim's true state), random (uniform actions within the limits)" };
        var samples = new Option<int?>("--samples") { Description = "Planner samples [Planner:Samples]" };
        var iterations = new Option<int?>("--iterations") { Description = "Planner iterations [Planner:Iterations]" };
        var horizon = new Option<int?>("--horizon") { Description = "Planned blocks ahead [Planner:Horizon]" };
        var solver = new Option<string?>("--solver") { Description = "cem or mppi [Planner:Solver]" };
        var costShape = new Option<string?>("--cost-shape") { Description = "last (LeWM), sum, or w1,w2,... one per horizon step [Planner:CostShape]" };
        var record = new Option<string?>("--record") { Description = "Record one episode file per eval episode (and the goal images) into this directory; default: no recording" };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout (progress stays on stderr)" };
        var rate = new Option<double?>("--rate-hz") { Description = "Command rate (default: the calibration's maxRateHz, 50 Hz for calibration/default); every command still passes the governor" };
        var set = new Option<string[]>("--set") { Description = "Any setting, Section:Key=Value (repeatable), e.g. --set Runtime:ExecuteBlocks=2" };
        var subGoals = new Option<bool>("--subgoals")
        {
            Description = "Give the loop a goal chain where the task has a sub-goal (push: first the pre-push pose behind the block, " +
                          "then the final goal); the next goal takes over when the sim's true state reaches the sub-goal",
        };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Runtime log lines on stderr" };
        var command = new Command("eval",
            "Measure closed-loop success on a simulated task: for each episode, set the workcell to the task's start, render " +
            "the goal image from its goal state, and run the same loop as `run` (camera -> encoder -> planner -> governor -> arm) " +
            "until the task's success test holds on the sim's true state or the task's command budget is spent. Reports the " +
            "success rate with a Wilson 95 % interval, steps to success, final error and plan time. For reproducibility eval " +
            "replans blocking, renders each frame when the loop reads it (Sim:RenderOnRead), runs every planner iteration " +
            "(no deadline) and turns the surprise monitor off (its stops and pauses would end episodes early). " +
            "Exit codes: 0 evaluated, 2 bad input, 130 interrupted.")
        {
            task, episodes, seed, model, planner, samples, iterations, horizon, solver, costShape, subGoals, record, json, rate, set, verbose,
        };
        command.SetAction((r, ct) => RunAsync(new Arguments
        {
            Task = r.GetValue(task), Episodes = r.GetValue(episodes), Seed = r.GetValue(seed), Model = r.GetValue(model),
            Planner = r.GetValue(planner) ?? "model", Samples = r.GetValue(samples), Iterations = r.GetValue(iterations),
            Horizon = r.GetValue(horizon), Solver = r.GetValue(solver), CostShape = r.GetValue(costShape), SubGoals = r.GetValue(subGoals),
            Record = r.GetValue(record),
            Json = r.GetValue(json), RateHz = r.GetValue(rate), Sets = r.GetValue(set) ?? [], Verbose = r.GetValue(verbose),
        }, Console.Out, Console.Error, ct));
        return command;
    }

    /// <summary>Everything fixed before the first episode: validated input, the model's fit, pacing and budget.</summary>
    private sealed record Plan(
        SimTask Task, int Episodes, EvalPlanner Planner, string ModelDirectory, WorldModelSpec Spec, double RateHz, int CommandsPerCycle, int MaxCycles,
        string? RecordDirectory, string GoalDirectory, SettingsOverrides Reproducible, SettingsOverrides Overrides);

    internal static async Task<int> RunAsync(Arguments a, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        Plan plan;
        try
        {
            plan = Prepare(a);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or ConfigurationValueException or InvalidOperationException
                                      or WorldModelException or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"robotctl eval: {OneLine(Message(e))}");
            return CliErrors.BadInput;
        }

        // Logs go to stderr only: stdout carries the report (with --json, exactly one JSON object).
        using var loggers = LoggerFactory.Create(b =>
        {
            b.AddStderrConsole();
            b.AddFilter((_, level) => level >= (a.Verbose ? LogLevel.Information : LogLevel.Warning));
        });
        var progress = new Progress(stderr, ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected, plan.Episodes);
        var results = new List<EvalEpisodeResult>(plan.Episodes);
        var total = Stopwatch.StartNew();
        EvalSetup? setup = null;
        try
        {
            for (var i = 0; i < plan.Episodes; i++)
            {
                progress.Start(i, results.Count(r => r.Success));
                var (result, episodeSetup) = await RunEpisodeAsync(a, plan, i, loggers, ct);
                if (result is null)
                {
                    progress.Abandon();
                    return ExitCodes.Interrupted;
                }
                setup ??= episodeSetup;
                results.Add(result);
                progress.Done(i, results.Count(r => r.Success), total.Elapsed);
            }
        }
        catch (OperationCanceledException)
        {
            progress.Abandon();
            return ExitCodes.Interrupted;
        }
        catch (Exception e)
        {
            // Building an episode's runtime failed (ONNX Runtime missing, a model that does not load, a camera fault):
            // the same for every episode, so stop here with the reason.
            progress.Abandon();
            stderr.WriteLine($"robotctl eval: episode {results.Count}: {OneLine(Message(e))}");
            if (Environment.GetEnvironmentVariable("ROBOTCTL_DEBUG") == "1") stderr.WriteLine(e);
            return CliErrors.BadInput;
        }
        finally
        {
            if (plan.RecordDirectory is null) TryDelete(plan.GoalDirectory);
        }

        var report = new EvalReport(setup!, results, total.Elapsed.TotalSeconds);
        stdout.WriteLine(a.Json ? report.ToJson() : report.ToText().TrimEnd());
        return 0;
    }

    private static Plan Prepare(Arguments a)
    {
        if (string.IsNullOrWhiteSpace(a.Task)) throw new ArgumentException($"--task: required, one of {string.Join(", ", SimTask.Names)}");
        SimTask task;
        try
        {
            task = SimTask.Get(a.Task);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"--task: {Message(e)}", e);
        }
        if (a.Episodes is not { } episodes) throw new ArgumentException("--episodes: required, a count >= 1");
        // Episode i of seed s plans with seed s * 1000 + i: a 1001st episode would replay seed s + 1's first.
        if (CliErrors.OutOfRange("--episodes", episodes, 1, 1000, _ => "episode i of a seed plans with seed * 1000 + i; run more seeds for more") is { } bad)
            throw new ArgumentException(bad);
        if (EvalPlanners.Parse(a.Planner) is not { } planner) throw new ArgumentException($"--planner: expected {string.Join(", ", EvalPlanners.Names)}, found '{a.Planner}'");
        if (a.Solver is not null && !Enum.GetNames<SolverKind>().Contains(a.Solver, StringComparer.OrdinalIgnoreCase))
            throw new ArgumentException($"--solver: expected cem or mppi, found '{a.Solver}'");
        if (a.CostShape is not null) _ = ParseOption("--cost-shape", a.CostShape);
        foreach (var (name, value, (max, why)) in new[] { ("--samples", a.Samples, CliErrors.SamplesLimit), ("--iterations", a.Iterations, CliErrors.IterationsLimit), ("--horizon", a.Horizon, CliErrors.HorizonLimit) })
            if (value is { } v && CliErrors.OutOfRange(name, v, 1, max, why) is { } error) throw new ArgumentException(error);
        if (a.Record is not null && File.Exists(a.Record)) throw new ArgumentException($"--record {a.Record}: is a file, expected a directory");
        if (a.Model is not null && RobotCtlHome.Resolve(a.Model) is var modelPath && !Directory.Exists(modelPath))
            throw new ArgumentException(File.Exists(modelPath) ? $"--model {a.Model}: is a file, expected a model directory" : $"--model {a.Model}: directory not found ({modelPath})");

        // Fixed for reproducibility first, then the user's --set, then eval's own options (later wins).
        var reproducible = new SettingsOverrides
        {
            Sim = true, SimRenderOnRead = true, ReplanMode = ReplanMode.Blocking, NoDeadline = true, SurpriseEnabled = false,
            // Lockstep with the simulator: a chunk stays valid for 10 s, so a machine under load slows an episode down
            // but never drops the tail of a chunk (the same seed gives the same episode; a real arm keeps 250 ms).
            ChunkSlackMs = 10000,
            Record = a.Record is null ? false : null, RecordTo = a.Record is null ? null : Path.GetFullPath(a.Record),
            Sets = a.Sets,
        };
        var overrides = new SettingsOverrides
        {
            Model = a.Model, Samples = a.Samples, Iterations = a.Iterations, Horizon = a.Horizon, CostShape = a.CostShape,
            Solver = a.Solver is null ? null : Enum.Parse<SolverKind>(a.Solver, ignoreCase: true),
        };
        using var services = HostServices.Create(AppConfiguration.Build(reproducible, overrides));
        var factory = services.Factory();
        var settings = factory.Settings;

        // The model must drive this workcell: 7-D end-effector actions, and a view the preprocessor can use unstretched.
        var modelDir = factory.ModelDirectory;
        var spec = ModelManifest.Load(modelDir).Spec;
        if (spec.ActionDim != EeCommand.Dim)
            throw new ArgumentException($"model '{spec.Name}' ({modelDir}): action.dim is {spec.ActionDim}, but the workcell takes {EeCommand.Dim}-D end-effector commands (dx dy dz droll dpitch dyaw gripper)");
        var (simW, simH) = (settings.Sim.Width, settings.Sim.Height);
        if ((long)spec.Image.Width * simH != (long)spec.Image.Height * simW)
            throw new ArgumentException($"model '{spec.Name}' ({modelDir}): image {spec.Image.Width}x{spec.Image.Height} has another aspect ratio than the sim camera's " +
                $"{simW}x{simH}, and the preprocessor resizes without cropping, so the model would see a stretched view; set Sim:Width and Sim:Height to the model's aspect (--set)");
        var options = factory.PlannerOptions(spec); // refuses a cost shape that does not fit
        _ = factory.ContextFrames(spec);            // and Planner:ContextFrames beyond the model's history

        var maxRate = factory.Rig.Limits.MaxRateHz;
        var rate = a.RateHz ?? maxRate;
        if (!(rate > 0) || rate > maxRate)
            throw new ArgumentException($"--rate-hz: expected a rate in (0, {maxRate.ToString(CultureInfo.InvariantCulture)}] Hz (the calibration's maxRateHz), found {rate.ToString(CultureInfo.InvariantCulture)}");
        overrides = overrides with { CommandRateHz = rate };

        var commandsPerCycle = settings.Runtime.BlocksPerCycle(spec.Planner.Receding, options.Horizon) * spec.ActionBlock;
        var maxCycles = (task.StepBudget + commandsPerCycle - 1) / commandsPerCycle;
        overrides = overrides with { MaxSteps = maxCycles };

        string? recordDir = null;
        string goalDir;
        if (a.Record is not null)
        {
            recordDir = Path.GetFullPath(a.Record);
            goalDir = Path.Combine(recordDir, "goals");
            OutputPaths.RequireWritableDirectory("--record", recordDir);
            OutputPaths.RequireWritableDirectory("--record", goalDir);
        }
        else
        {
            goalDir = Path.Combine(Path.GetTempPath(), $"robotctl-eval-{Environment.ProcessId}-{Guid.NewGuid():N}"[..48]);
            Directory.CreateDirectory(goalDir);
        }
        return new Plan(task, episodes, planner, modelDir, spec, rate, commandsPerCycle, maxCycles, recordDir, goalDir, reproducible, overrides);
    }

    /// <summary>One episode through the full runtime; null result when cancelled.</summary>
    private static async Task<(EvalEpisodeResult? Result, EvalSetup Setup)> RunEpisodeAsync(Arguments a, Plan plan, int index, ILoggerFactory loggers, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var task = plan.Task;
        var episode = task.Sample(a.Seed, index);
        var workcell = new SimWorkcell(episode.Scene);
        using var services = HostServices.Create(
            AppConfiguration.Build(plan.Reproducible, plan.Overrides with { Seed = EpisodeSeed(a.Seed, index) }), loggers);
        var factory = services.Factory();
        var settings = factory.Settings;

        // The goal image: the episode's goal state through the same renderer and view as the loop's sim camera.
        var renderer = new SimRenderer(new SimRenderOptions { Width = settings.Sim.Width, Height = settings.Sim.Height });
        var goalFrame = new Frame(settings.Sim.Width, settings.Sim.Height);
        var goalPaths = new List<string>(2);
        // With --subgoals, the task's sub-goal (if this episode has one) is the first goal of the chain.
        if (a.SubGoals && task.SubGoal(episode) is { } subGoal)
        {
            var subPath = Path.Combine(plan.GoalDirectory, $"{task.Name}-s{a.Seed}-e{index:D4}-sub.png");
            renderer.Render(episode.Scene, subGoal, goalFrame);
            ImageIo.SavePng(subPath, goalFrame);
            goalPaths.Add(subPath);
        }
        var goalPath = Path.Combine(plan.GoalDirectory, $"{task.Name}-s{a.Seed}-e{index:D4}.png");
        renderer.Render(episode.Scene, episode.Goal, goalFrame);
        ImageIo.SavePng(goalPath, goalFrame);
        goalPaths.Add(goalPath);
        var lastGoal = goalPaths.Count - 1;

        PlannerChoice? choice = plan.Planner switch
        {
            EvalPlanner.Oracle => new PlannerChoice("oracle", c => EvalPlanners.Oracle(c.Model.Spec, c.Options, c.Bounds, c.Mapping, workcell, episode)),
            EvalPlanner.Random => new PlannerChoice("random", c => EvalPlanners.Random(c.Model.Spec, c.Options, c.Bounds)),
            _ => null,
        };
        await using var session = services.GetRequiredService<ControlSession>();
        await session.OpenAsync(new ControlSessionRequest(goalPaths)
        {
            World = new RunWorld().With(workcell),
            Planner = choice,
            // A sub-goal counts as reached also when the task is already done (the next cycle then ends the run).
            ExternalSuccess = goal =>
            {
                var state = workcell.Snapshot();
                return task.IsSuccess(state, episode) || (goal < lastGoal && task.IsSubGoalReached(state, episode));
            },
        }, ct);
        var components = session.Components;
        var loop = session.Loop;
        var o = components.Planner.Options;
        var setup = new EvalSetup(task.Name, a.Seed, a.Planner, o.Solver.ToString().ToLowerInvariant(), components.Model.Spec.Name, plan.ModelDirectory,
            o.Samples, o.TopK, o.Iterations, o.Horizon, o.CostShape.ToString(), plan.RateHz, plan.CommandsPerCycle, task.StepBudget,
            plan.MaxCycles, task.SuccessRadius, a.SubGoals, components.ContextFrames,
            o.LatentWeights is { } lw ? LatentWeights.Format(lw) : null);
        var planMs = new List<double>(plan.MaxCycles);
        loop.CycleCompleted += r => planMs.Add(r.PlanMs);

        var startError = task.ErrorMetres(workcell.Snapshot(), episode);
        var outcome = await session.RunAsync(ct);
        if (outcome == RunOutcome.Cancelled)
        {
            await session.CloseEpisodeAsync(outcome);
            return (null, setup);
        }

        // Judged on the true state; the last chunk's commands count (the loop checks only before planning).
        var final = workcell.Snapshot();
        var success = outcome == RunOutcome.Success || task.IsSuccess(final, episode);
        int? steps = outcome == RunOutcome.Success ? loop.Step * plan.CommandsPerCycle
            : success ? plan.MaxCycles * plan.CommandsPerCycle : null;
        var cycles = loop.Step; // cycles that planned and executed a chunk
        var error = task.ErrorMetres(final, episode);
        var outcomeName = success ? "Success" : outcome.ToString();
        components.Recorder?.RecordEvent(-1, EpisodeEventKind.Note, string.Create(CultureInfo.InvariantCulture,
            $"eval task {task.Name} seed {a.Seed} episode {index}: {outcomeName}, error {error * 100:F2} cm, {steps?.ToString(CultureInfo.InvariantCulture) ?? "-"} steps, planner {a.Planner}"));
        await session.CloseEpisodeAsync(success ? RunOutcome.Success : outcome);
        return (new EvalEpisodeResult(index, success, steps, startError, error, task.YawErrorRadians(final, episode), cycles, outcomeName, planMs,
            clock.Elapsed.TotalSeconds), setup);
    }

    /// <summary>The planner seed of episode <paramref name="index"/>: each episode its own stream, reproducible from the eval seed.</summary>
    internal static int EpisodeSeed(int seed, int index) => unchecked(seed * 1000 + index);

    private static CostShape ParseOption(string option, string text)
    {
        try
        {
            return CostShape.Parse(text);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"{option}: {e.Message}", e);
        }
    }

    private static void TryDelete(string directory)
    {
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>The message without .NET's " (Parameter 'x')" suffix, which names a C# parameter, not an option.</summary>
    private static string Message(Exception e) =>
        e is ArgumentException { ParamName: { } name } ? e.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : e.Message;

    private static string OneLine(string text) => string.Join(" ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>Progress on stderr: a redrawn bar on a terminal, one line per episode otherwise.</summary>
    private sealed class Progress(TextWriter output, bool interactive, int episodes)
    {
        private const int Width = 24;

        public void Start(int index, int successes)
        {
            if (interactive) Draw(index, successes, null, running: true);
        }

        public void Done(int index, int successes, TimeSpan elapsed)
        {
            var done = index + 1;
            var eta = TimeSpan.FromSeconds(elapsed.TotalSeconds / done * (episodes - done));
            if (interactive)
            {
                Draw(done, successes, eta, running: false);
                if (done == episodes) output.WriteLine();
            }
            else
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"robotctl eval: episode {done}/{episodes} done, {successes} success(es), ETA {Format(eta)}"));
            }
        }

        public void Abandon()
        {
            if (interactive) output.WriteLine();
        }

        private void Draw(int done, int successes, TimeSpan? eta, bool running)
        {
            var filled = (int)Math.Round((double)done / episodes * Width);
            var bar = new string('#', filled) + new string('.', Width - filled);
            var state = running ? $"running episode {done + 1}/{episodes}" : $"{done}/{episodes} episodes";
            output.Write(string.Create(CultureInfo.InvariantCulture,
                $"\r[{bar}] {state}, {successes} success(es){(eta is { } t ? $", ETA {Format(t)}" : "")}   "));
            output.Flush();
        }

        private static string Format(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);
    }
}
