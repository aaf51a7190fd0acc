using RobotCtl.Host.Composition;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Json;
using RobotCtl.Core.Timing;
using RobotCtl.Core.WorldModel;
using RobotCtl.Inference;
using RobotCtl.Inference.WorldModel;
using RobotCtl.Planning;
using RobotCtl.Runtime;
using RobotCtl.Runtime.Composition;
using RobotCtl.Vision;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Host.Commands;

/// <summary>
/// `robotctl plan`: one plan from an observation image toward a goal image with a model directory. Both images are
/// preprocessed the same way (any size, resized to the model's), encoded once, and the planner's chunk, final cost,
/// iterations and timings are printed (text, or one JSON object with --json). Failures: exit 2, one line on stderr.
/// </summary>
internal static class PlanCommand
{
    internal sealed record Arguments(
        string Model, string? Observation, string Goal, int? Samples, int? TopK, int? Iterations, int? Horizon,
        ulong? Seed, double? DeadlineMs, string? Solver, float[]? State, bool Json, int Repeats = 1, string? CostShape = null,
        IReadOnlyList<string>? Context = null, string? ContextActions = null, string? ContextStates = null, bool Unbounded = false);

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model directory (model.json, encoder.onnx, predictor.onnx)", Required = true };
        var observation = new Option<string?>("--observation") { Description = "Current image (PNG/JPEG, any size); or --context" };
        var context = new Option<string[]>("--context")
        {
            Description = "Instead of --observation: the context the loop gives the predictor, images oldest first, one action block apart " +
                          "(the last is the current frame; 1..predictor.history), with --context-actions (and --context-states for state models)",
            AllowMultipleArgumentsPerToken = true,
        };
        var contextActions = new Option<string?>("--context-actions")
        {
            Description = "JSON [F-1][block values]: the blocks executed between the F context frames, in the checkpoint's own predictor-input " +
                          "units (normalised; for an imported checkpoint its own action dims, see model.json action.checkpoint_dims)",
        };
        var contextStates = new Option<string?>("--context-states") { Description = "JSON [F][state dim]: one end-effector state per context frame (state models)" };
        var goal = new Option<string>("--goal") { Description = "Goal image (PNG/JPEG, any size)", Required = true };
        var samples = new Option<int?>("--samples") { Description = "Candidates per iteration (default: the model's planner.samples)" };
        var topk = new Option<int?>("--topk") { Description = "Elites refit per iteration (default: planner.topk)" };
        var iterations = new Option<int?>("--iterations") { Description = "Solver iterations (default: planner.iterations)" };
        var horizon = new Option<int?>("--horizon") { Description = "Action blocks planned ahead (default: planner.horizon)" };
        var seed = new Option<ulong?>("--seed") { Description = "Random seed; the same seed, images and model give the same plan (default 0)" };
        var deadline = new Option<double?>("--deadline-ms") { Description = "Time budget for the plan; the solver stops before an iteration that would overrun it" };
        var solver = new Option<string?>("--solver") { Description = "cem or mppi (default: planner.solver)" };
        solver.AcceptOnlyFromAmong("cem", "mppi");
        var state = new Option<string?>("--state") { Description = "Current end-effector state for state models: x,y,z,roll,pitch,yaw,gripper (default: zeros)" };
        var costShape = new Option<string?>("--cost-shape") { Description = "How each horizon step's distance to the goal counts: last (LeWM), sum, or w1,w2,... one per horizon step (default: planner.cost_shape)" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object" };
        var unbounded = new Option<bool>("--unbounded")
        {
            Description = "Search the normalised action space without the rig's per-step limits, as stable-worldmodel's CEM does " +
                          "(for comparing with a reference planner; a plan here drives no arm, and run/eval always plan within the limits)",
        };
        var repeats = new Option<int>("--repeats")
        {
            Description = "Benchmarking: warm up, then plan this many times from a cold warm start with the same seed; timings are the median",
            DefaultValueFactory = _ => 1,
        };

        // Refused at parse time, naming the option: a directory or a missing file as an image, counts below 1, TopK above Samples.
        CliErrors.ValidateDirectory(model, "a model directory (model.json, encoder.onnx, predictor.onnx)");
        CliErrors.ValidateImageFiles(observation);
        CliErrors.ValidateImageFiles(context);
        CliErrors.ValidateImageFiles(goal);
        CliErrors.PlannerSizes(samples, topk, iterations, horizon);
        CliErrors.NotBlank(costShape, "last, sum or w1,w2,... (leave the option out for the model's planner.cost_shape)");
        topk.Validators.Add(r =>
        {
            if (CliErrors.IntValue(r) is { } k && r.Parent is CommandResult c && CliErrors.IntValue(c.GetResult(samples)) is { } n && k > n)
                r.AddError($"--topk {k}: expected <= --samples ({n})");
        });
        var command = new Command("plan", "Plan one action chunk from an observation image (or a context of several, as the loop gives the predictor) toward a goal image");
        command.Validators.Add(c =>
        {
            // The required options are reported first (the parser says nothing else once a command validator fails).
            if (c.GetResult(model) is null || c.GetResult(goal) is null) return;
            var hasObservation = c.GetResult(observation) is { Tokens.Count: > 0 };
            var hasContext = c.GetResult(context) is { Tokens.Count: > 0 };
            if (hasObservation == hasContext)
                c.AddError(hasObservation ? "--observation and --context: give one (--context's last image is the current frame)" : "expected --observation <image> or --context <image>...");
            else if (!hasContext && (c.GetResult(contextActions) is not null || c.GetResult(contextStates) is not null))
                c.AddError("--context-actions/--context-states: they go with --context, not --observation");
            else if (c.GetResult(contextStates) is not null && c.GetResult(state) is not null)
                c.AddError("--state and --context-states: give one (--context-states' last row is the current state)");
        });
        foreach (var o in new Option[] { model, observation, context, contextActions, contextStates, goal, samples, topk, iterations, horizon, seed, deadline, solver, state, costShape, json, unbounded, repeats })
            command.Options.Add(o);
        command.SetAction(r =>
        {
            float[]? stateValues;
            try
            {
                stateValues = ParseState(r.GetValue(state));
            }
            catch (FormatException e)
            {
                Console.Error.WriteLine($"robotctl plan: --state: {e.Message}");
                return ExitCodes.BadInput;
            }
            return Run(new Arguments(r.GetValue(model)!, r.GetValue(observation), r.GetValue(goal)!, r.GetValue(samples),
                r.GetValue(topk), r.GetValue(iterations), r.GetValue(horizon), r.GetValue(seed), r.GetValue(deadline),
                r.GetValue(solver), stateValues, r.GetValue(json), r.GetValue(repeats), r.GetValue(costShape),
                r.GetValue(context), r.GetValue(contextActions), r.GetValue(contextStates), r.GetValue(unbounded)), Console.Out, Console.Error);
        });
        return command;
    }

    internal static int Run(Arguments args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            return Plan(args, stdout);
        }
        catch (Exception e) when (e is WorldModelException or InferenceSetupException or OrtException or VisionException
                                      or ArgumentException or InvalidOperationException or IOException or DllNotFoundException
                                      or ConfigurationValueException)
        {
            stderr.WriteLine($"robotctl plan: {OneLine(e.Message)}");
            return ExitCodes.BadInput;
        }
        catch (Exception e)
        {
            stderr.WriteLine($"robotctl plan: unexpected {e.GetType().Name}: {OneLine(e.Message)}");
            return ExitCodes.BadInput;
        }
    }

    private static int Plan(Arguments args, TextWriter stdout)
    {
        // The same composition as run: appsettings, ROBOTCTL_* variables, the Inference settings, the rig's limits (the
        // planner samples within them) and its mapping; the options below override the Planner section. A plan here is
        // measured whole: no deadline unless --deadline-ms asks for one.
        using var services = HostServices.Create(AppConfiguration.Build(new SettingsOverrides
        {
            Model = Path.GetFullPath(args.Model), NoDeadline = true, DeadlineMs = args.DeadlineMs,
            Samples = args.Samples, TopK = args.TopK, Iterations = args.Iterations, Horizon = args.Horizon, CostShape = args.CostShape,
            Solver = args.Solver is null ? null : Enum.Parse<SolverKind>(args.Solver, ignoreCase: true),
        }));
        var factory = services.Factory();
        using var model = factory.LoadModel();
        var spec = model.Spec;

        var encodeStart = MonotonicClock.Now;
        using var preprocessor = factory.CreatePreprocessor(spec);
        var state = spec.StateDim > 0 && args.ContextStates is null ? args.State ?? new float[spec.StateDim] : null;
        if (state is not null && state.Length != spec.StateDim)
            throw new ArgumentException($"--state: model '{spec.Name}' takes {spec.StateDim} state values, found {state.Length}");
        if (spec.StateDim == 0 && args.State is not null)
            throw new ArgumentException($"--state: model '{spec.Name}' takes no state input");
        var context = PlanContext.Read(model, preprocessor, args.Context is { Count: > 0 } images ? images : [args.Observation!],
            args.ContextActions, args.ContextStates, state);
        var goal = PlanContext.Encode(preprocessor, model, args.Goal);
        var encodeMs = MonotonicClock.ElapsedMs(encodeStart);

        var options = factory.PlannerOptions(spec) with { Seed = args.Seed ?? 0 };

        if (args.Repeats < 1) throw new ArgumentException($"--repeats: expected >= 1, found {args.Repeats}");

        using var planner = args.Unbounded ? new LatentPlanner(model, options) : factory.CreatePlanner(model, options);
        planner.SetGoal(goal);
        var input = context.Input(options.Seed);
        if (args.Repeats > 1) planner.WarmUp(input);
        var plan = planner.CreateResult();
        var runs = new double[args.Repeats];
        var cpu = new double[args.Repeats];
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        for (var i = 0; i < runs.Length; i++)
        {
            planner.ResetWarmStart(); // every repeat is the same computation
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            planner.Plan(input, plan);
            process.Refresh();
            cpu[i] = (process.TotalProcessorTime - cpuBefore).TotalMilliseconds; // all threads: shows waiting for cores under load
            runs[i] = plan.Timings.TotalMs;
        }
        if (plan.Actions.Any(a => !float.IsFinite(a)))
            throw new WorldModelException($"model '{spec.Name}': the plan contains non-finite actions; refusing to print them");

        if (args.Json) WriteJson(stdout, spec, options, planner.SharesContext, plan, encodeMs, runs, cpu);
        else WriteText(stdout, spec, options, planner.SharesContext, plan, encodeMs, args, runs);
        return 0;
    }

    private static double Median(double[] runs)
    {
        var sorted = runs.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static void WriteText(TextWriter o, WorldModelSpec spec, PlannerOptions options, bool sharesContext, PlanResult plan, double encodeMs, Arguments args, double[] runs)
    {
        var c = CultureInfo.InvariantCulture;
        var from = args.Context is { Count: > 0 } images ? $"context {string.Join(" ", images)}" : $"observation {args.Observation}";
        o.WriteLine($"model {spec.Name} ({spec.Family}), {from}, goal {args.Goal}");
        o.WriteLine(string.Create(c, $"{options.Solver.ToString().ToLowerInvariant()} {options.Samples} samples, top {options.TopK}, horizon {options.Horizon} x {spec.ActionBlock} steps, cost shape {options.CostShape}, seed {plan.Seed}{(sharesContext ? ", shared context once per call" : "")}"));
        var stopped = plan.StoppedByDeadline ? $" (deadline: stopped before iteration {plan.Iterations + 1} of {options.Iterations})" : "";
        o.WriteLine(string.Create(c, $"iterations {plan.Iterations}{stopped}, final cost {(plan.Iterations > 0 ? plan.FinalCost.ToString("G6", c) : "n/a (warm start, nothing scored)")}"));
        var t = plan.Timings;
        o.WriteLine(string.Create(c, $"timings: encode {encodeMs:F1} ms, plan {Median(runs):F1} ms (last plan: predictor {t.PredictorMs:F1}, rollout {t.RolloutMs:F2}, solver {t.SolverMs:F2})"));
        if (runs.Length > 1) o.WriteLine(string.Create(c, $"plans after warm-up: {string.Join(", ", runs.Select(r => r.ToString("F1", c)))} ms"));
        o.WriteLine("step  [dx dy dz droll dpitch dyaw gripper]");
        for (var s = 0; s < plan.Steps; s++)
            o.WriteLine(string.Create(c, $"{s,4}  {(plan.ActionDim == 7 ? plan.Command(s).ToString() : string.Join(" ", plan.Action(s).ToArray()))}"));
    }

    private static void WriteJson(TextWriter o, WorldModelSpec spec, PlannerOptions options, bool sharesContext, PlanResult plan, double encodeMs, double[] runs, double[] cpu)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("model", spec.Name);
            w.WriteStartArray("actions");
            for (var s = 0; s < plan.Steps; s++)
            {
                w.WriteStartArray();
                foreach (var v in plan.Action(s)) w.WriteNumberValue(v);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            if (plan.Iterations > 0) w.WriteNumber("cost", plan.FinalCost); else w.WriteNull("cost");
            w.WriteNumber("iterations", plan.Iterations);
            w.WriteBoolean("stopped_by_deadline", plan.StoppedByDeadline);
            w.WriteStartArray("best_cost_per_iteration");
            foreach (var v in plan.BestCostPerIteration) w.WriteNumberValue(v);
            w.WriteEndArray();
            w.WriteString("solver", options.Solver.ToString().ToLowerInvariant());
            w.WriteNumber("samples", options.Samples);
            w.WriteNumber("topk", options.TopK);
            w.WriteNumber("horizon", options.Horizon);
            w.WriteString("cost_shape", options.CostShape.ToString());
            w.WriteBoolean("shared_context", sharesContext);
            w.WriteNumber("rollout_threads", options.RolloutThreads);
            w.WriteNumber("block", spec.ActionBlock);
            w.WriteNumber("seed", plan.Seed);
            w.WriteStartObject("timings_ms");
            w.WriteNumber("encode", Math.Round(encodeMs, 3));
            w.WriteNumber("plan", Math.Round(Median(runs), 3));
            w.WriteNumber("predictor", Math.Round(plan.Timings.PredictorMs, 3));
            w.WriteNumber("rollout", Math.Round(plan.Timings.RolloutMs, 3));
            w.WriteNumber("solver", Math.Round(plan.Timings.SolverMs, 3));
            w.WriteEndObject();
            w.WriteStartArray("plan_runs_ms");
            foreach (var r in runs) w.WriteNumberValue(Math.Round(r, 3));
            w.WriteEndArray();
            w.WriteStartArray("plan_cpu_ms");
            foreach (var c in cpu) w.WriteNumberValue(Math.Round(c, 1));
            w.WriteEndArray();
            w.WriteEndObject();
        }
        o.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    private static float[]? ParseState(string? text)
    {
        if (text is null) return null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new float[parts.Length];
        for (var i = 0; i < parts.Length; i++)
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !float.IsFinite(values[i]))
                throw new FormatException($"value {i + 1} '{parts[i]}' is not a finite number (expected x,y,z,roll,pitch,yaw,gripper)");
        return values;
    }

    private static string OneLine(string text) => string.Join(" ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
