using RobotCtl.Host.Composition;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using RobotCtl.Core.Arm;
using RobotCtl.Planning;
using RobotCtl.Runtime;
using RobotCtl.Runtime.Composition;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Host.Commands;

/// <summary>
/// `robotctl model score DIR --context IMG... --goal IMG --candidates JSON`: the planner's cost of given candidates from
/// a given context, computed exactly as a plan scores its samples (same rollout, same cost), for debugging a plan and
/// for checking parity with a reference implementation (stable-worldmodel's LeWM.rollout + GoalMSE).
/// </summary>
internal static class ModelScoreCommand
{
    internal sealed record Arguments(string Model, IReadOnlyList<string> Context, string? ContextActions, string? ContextStates,
        string Goal, string Candidates, string? CostShape, bool Latents, bool Json);

    public static Command Create()
    {
        var dir = new Argument<string>("dir") { Description = "Model directory (model.json, encoder.onnx, predictor.onnx)" };
        var context = new Option<string[]>("--context")
        {
            Description = "Context images, oldest first, one action block apart; the last is the current frame (1..predictor.history). " +
                          "Images at the model's size are used as they are; others are area-resampled to it",
            Required = true, AllowMultipleArgumentsPerToken = true,
        };
        var contextActions = new Option<string?>("--context-actions")
        {
            Description = "JSON [F-1][block values]: the action blocks executed between the F context frames, in the checkpoint's own " +
                          "predictor-input units (LeWM: the normalised block of frameskip x action-dim values); required when F > 1",
        };
        var contextStates = new Option<string?>("--context-states") { Description = "JSON [F][state dim]: one state per context frame (models that take states)" };
        var goal = new Option<string>("--goal") { Description = "Goal image", Required = true };
        var candidates = new Option<string>("--candidates")
        {
            Description = "JSON [candidate][horizon step][block values] in the same units as --context-actions; the horizon is the steps given",
            Required = true,
        };
        var costShape = new Option<string?>("--cost-shape") { Description = "last (the model's default for LeWM: the last predicted latent only) or sum (every step)" };
        costShape.AcceptOnlyFromAmong("last", "sum");
        var latents = new Option<bool>("--latents") { Description = "Also print each candidate's final predicted latent (flattened)" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object {costs, best, goal_latent, context_latents[, latents]}" };
        CliErrors.ValidateImageFiles(context);
        CliErrors.ValidateImageFiles(goal);
        var command = new Command("score",
            "The planner's cost of given action candidates from a given context toward a goal image: one batched rollout of " +
            "the predictor (the context frames with the executed blocks between them, then each candidate's blocks), scored " +
            "as a plan scores its samples (model.json's cost: mse = squared error summed over the latent; l1 = mean absolute " +
            "difference), without clipping. For debugging a plan and for parity checks against the authors' planner.");
        command.Arguments.Add(dir);
        foreach (var o in new Option[] { context, contextActions, contextStates, goal, candidates, costShape, latents, json }) command.Options.Add(o);
        command.SetAction(r => ModelCommands.Guard("model score", Console.Error, () => Run(new Arguments(
            r.GetValue(dir)!, r.GetValue(context)!, r.GetValue(contextActions), r.GetValue(contextStates), r.GetValue(goal)!,
            r.GetValue(candidates)!, r.GetValue(costShape), r.GetValue(latents), r.GetValue(json)), Console.Out)));
        return command;
    }

    internal static int Run(Arguments args, TextWriter stdout)
    {
        var directory = ModelCommands.RequireDirectory(args.Model);
        var rows = JsonNumbers.ReadCube(args.Candidates, "--candidates");
        if (rows.Length == 0) throw new ArgumentException($"--candidates {args.Candidates}: expected at least one candidate, found none");
        var horizon = rows[0].Length;
        if (horizon == 0) throw new ArgumentException($"--candidates {args.Candidates}[0]: expected at least one horizon step, found none");

        // The planner scores populations of at least two (its solver's minimum): a single candidate is scored twice.
        var population = Math.Max(2, rows.Length);
        using var services = HostServices.Create(AppConfiguration.Build(new SettingsOverrides
        {
            Model = directory, NoDeadline = true, Samples = population, TopK = 1, Iterations = 1, Horizon = horizon, CostShape = args.CostShape,
        }));
        var factory = services.Factory();
        using var model = factory.LoadModel();
        var spec = model.Spec;

        // Candidates in checkpoint units -> the planner's normalised layout.
        var width = horizon * spec.ActionBlockSize;
        var normalised = new float[population * width];
        for (var c = 0; c < rows.Length; c++)
        {
            if (rows[c].Length != horizon)
                throw new ArgumentException($"--candidates {args.Candidates}[{c}]: expected {horizon} horizon steps (as candidate 0), found {rows[c].Length}");
            for (var k = 0; k < horizon; k++)
            {
                if (rows[c][k].Length != spec.CheckpointBlockSize)
                    throw new ArgumentException($"--candidates {args.Candidates}[{c}][{k}]: expected {CheckpointActions.DescribeBlock(spec, EeCommand.AxisNames)}, found {rows[c][k].Length} values");
                CheckpointActions.Expand(spec, rows[c][k], normalised.AsSpan(c * width + k * spec.ActionBlockSize, spec.ActionBlockSize));
            }
        }

        // The images as they are: no rig calibration (a crop or undistortion belongs to a camera, not to a scored file).
        using var preprocessor = new Preprocessor(spec.Image);
        var context = PlanContext.Read(model, preprocessor, args.Context, args.ContextActions, args.ContextStates);
        var goal = PlanContext.Encode(preprocessor, model, args.Goal);

        var options = factory.PlannerOptions(spec);
        using var planner = factory.CreatePlanner(model, options);
        planner.SetGoal(goal);
        for (var c = rows.Length; c < population; c++) normalised.AsSpan(0, width).CopyTo(normalised.AsSpan(c * width, width));
        var scored = new float[population];
        var allFinals = new float[population * spec.LatentSize];
        planner.Score(context.Input(), normalised, scored, allFinals);
        var costs = scored[..rows.Length];
        var finals = allFinals[..(rows.Length * spec.LatentSize)];
        var best = 0;
        for (var c = 1; c < costs.Length; c++) if (costs[c] < costs[best]) best = c;

        if (args.Json) WriteJson(stdout, costs, best, goal, context, args.Latents ? finals : null, spec.LatentSize, options.CostShape.ToString());
        else
        {
            var ci = CultureInfo.InvariantCulture;
            stdout.WriteLine($"model {spec.Name} ({spec.Family}), {context.Frames} context frame(s), horizon {horizon}, cost {spec.Planner.Cost}, cost shape {options.CostShape}");
            for (var c = 0; c < costs.Length; c++) stdout.WriteLine(string.Create(ci, $"candidate {c,4}  cost {costs[c]:G8}{(c == best ? "  <- best" : "")}"));
        }
        return 0;
    }

    private static void WriteJson(TextWriter o, float[] costs, int best, float[] goal, PlanContext context, float[]? finals, int latent, string costShape)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            Numbers(w, "costs", costs);
            w.WriteNumber("best", best);
            w.WriteString("cost_shape", costShape);
            if (finals is not null)
            {
                w.WriteStartArray("latents");
                for (var c = 0; c < costs.Length; c++) Numbers(w, null, finals.AsSpan(c * latent, latent));
                w.WriteEndArray();
            }
            Numbers(w, "goal_latent", goal);
            w.WriteStartArray("context_latents");
            for (var f = 0; f < context.Frames; f++) Numbers(w, null, context.Latents.AsSpan(f * latent, latent));
            w.WriteEndArray();
            w.WriteEndObject();
        }
        o.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    /// <summary>Float values as JSON numbers (shortest round-trip form); a non-finite cost (a rollout that blew up) as null.</summary>
    private static void Numbers(Utf8JsonWriter w, string? name, ReadOnlySpan<float> values)
    {
        if (name is null) w.WriteStartArray(); else w.WriteStartArray(name);
        foreach (var v in values)
            if (float.IsFinite(v)) w.WriteNumberValue(v); else w.WriteNullValue();
        w.WriteEndArray();
    }
}
