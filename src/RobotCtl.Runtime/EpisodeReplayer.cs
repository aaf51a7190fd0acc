using RobotCtl.Core.Arm;
using RobotCtl.Core.Vision;
using RobotCtl.Core.WorldModel;
using RobotCtl.Episodes;
using RobotCtl.Planning;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Runtime;

/// <summary>
/// Recomputes an episode step by step with the same preprocessing, encoder and planner (same seeds, settings,
/// warm starts and goal switches) and measures where the recomputed latents, plans and commands differ from the
/// recorded ones. Plans are made from the recorded latents, so the planner's own reproducibility is checked
/// independently of frame compression; the encoder is checked separately on the decoded frames. A plan with a
/// recorded context (plan_contexts: a run with Planner:ContextFrames &gt; 1) is replayed from the same context: the
/// latents of the frames it names (the steps' own frames and the block-boundary frames), the executed blocks and the
/// states recorded with it. Episodes without contexts (older files, one context frame) replay from the step's frame.
/// </summary>
public sealed class EpisodeReplayer(IWorldModel model, Preprocessor preprocessor, LatentPlanner planner, ActionMapping mapping,
    int blocksPerCycle, double tolerance = 1e-5)
{
    public IEnumerable<ReplayStep> Replay(EpisodeReader episode, long from = long.MinValue, long to = long.MaxValue)
    {
        var spec = model.Spec;
        var goalLatents = episode.Latents().Where(l => l.Kind == LatentKind.Goal).OrderByDescending(l => l.Step).Select(l => l.Values).ToList();
        if (goalLatents.Count == 0) throw new InvalidDataException($"{episode.Path}: the episode has no goal latents; it cannot be replayed");
        var observed = episode.Latents().Where(l => l.Kind == LatentKind.Observed).GroupBy(l => l.Step).ToDictionary(g => g.Key, g => g.Last().Values);
        var frames = episode.Frames().GroupBy(f => f.Step).ToDictionary(g => g.Key, g => g.Last());
        var states = episode.ArmStates().GroupBy(s => s.Step).ToDictionary(g => g.Key, g => g.First().State);
        var commands = episode.Commands().Where(c => !c.Requested.IsHold).GroupBy(c => c.Step).ToDictionary(g => g.Key, g => g.ToList());
        var contexts = episode.PlanContexts().GroupBy(c => c.Step).ToDictionary(g => g.Key, g => g.Last());
        var boundaryFrames = episode.BoundaryFrames().GroupBy(b => (b.Step, b.Boundary)).ToDictionary(g => g.Key, g => g.Last());
        var boundaryFramesOf = boundaryFrames.Values.ToLookup(b => b.Step);
        // The loop's decisions, recorded as typed events: goal switches and dropped warm starts.
        var decisions = episode.Events().Where(e => e.Kind is EpisodeEventKind.GoalReached or EpisodeEventKind.WarmStartReset).ToLookup(e => e.Step);

        var frame = new Frame(spec.Image.Width, spec.Image.Height);
        var pixels = new float[preprocessor.OutputLength];
        var latent = new float[spec.LatentSize];
        var stateBuffer = new float[Math.Max(1, spec.StateDim)];
        var result = planner.CreateResult();
        var goalIndex = 0;
        planner.SetGoal(goalLatents[0]);
        planner.ResetWarmStart();
        var blocksExecuted = 0;

        foreach (var plan in episode.Plans().OrderBy(p => p.Step))
        {
            var step = plan.Step;
            // The decisions the live loop took before this plan, as it recorded them.
            foreach (var e in decisions[step])
            {
                if (e.Kind == EpisodeEventKind.GoalReached && goalIndex + 1 < goalLatents.Count) planner.SetGoal(goalLatents[++goalIndex]);
                planner.ResetWarmStart();
            }
            if (!observed.TryGetValue(step, out var recordedLatent))
                throw new InvalidDataException($"{episode.Path}: step {step} has a plan but no observed latent");

            // Encoder: the recorded frame through the same preprocessing and encoder.
            var latentDiff = double.NaN;
            if (frames.TryGetValue(step, out var row))
            {
                Decode(row, frame);
                preprocessor.Process(frame, pixels);
                model.Encode(pixels, 1, latent);
                latentDiff = MaxAbsDiff(latent, recordedLatent);
            }
            // The frames captured at block boundaries while this step's chunk ran, through the same encoder.
            foreach (var boundary in boundaryFramesOf[step])
            {
                Decode(new FrameRow(boundary.Step, boundary.Ticks, boundary.CaptureTicks, boundary.Sequence, boundary.Width, boundary.Height, boundary.Format, boundary.Data), frame);
                preprocessor.Process(frame, pixels);
                model.Encode(pixels, 1, latent);
                var diff = MaxAbsDiff(latent, boundary.Latent);
                latentDiff = double.IsNaN(latentDiff) ? diff : Math.Max(latentDiff, diff);
            }

            // Planner: from the recorded context (or the recorded latent), with the recorded seed and iteration count.
            var contextFrames = 1;
            var contextDiff = 0.0;
            if (contexts.TryGetValue(step, out var context))
            {
                (contextFrames, contextDiff) = (context.Frames, RebuildContext(context, observed, boundaryFrames, spec.LatentSize, out var latents));
                planner.Plan(new PlanInput(latents)
                {
                    PastActions = context.PastActions,
                    States = spec.StateDim > 0 ? context.States : default,
                    BlocksExecuted = blocksExecuted,
                    Seed = unchecked((ulong)plan.Seed),
                    MaxIterations = plan.Iterations,
                }, result);
            }
            else
            {
                if (spec.StateDim > 0 && states.TryGetValue(step, out var state)) state.CopyPoseTo(stateBuffer);
                planner.Plan(new PlanInput(recordedLatent)
                {
                    States = spec.StateDim > 0 ? stateBuffer.AsSpan(0, spec.StateDim) : default,
                    BlocksExecuted = blocksExecuted,
                    Seed = unchecked((ulong)plan.Seed),
                    MaxIterations = plan.Iterations,
                }, result);
            }
            var published = plan.Iterations > 0 && plan.Chunk.All(float.IsFinite);
            blocksExecuted = published ? blocksPerCycle : 0;
            var planDiff = MaxAbsDiff(result.Actions, plan.Chunk);

            // Commands: the recorded requests of this plan versus the replayed chunk through the same mapping.
            var commandDiff = 0.0;
            var compared = 0;
            if (commands.TryGetValue(step, out var sent))
            {
                for (var i = 0; i < sent.Count && i < result.Steps; i++)
                {
                    var replayed = mapping.ToRobot(result.Action(i));
                    for (var a = 0; a < EeCommand.Dim; a++) commandDiff = Math.Max(commandDiff, Math.Abs(replayed[a] - sent[i].Requested[a]));
                    compared++;
                }
            }

            if (step < from || step > to) continue;
            var diverges = planDiff > tolerance || commandDiff > tolerance || result.Iterations != plan.Iterations || contextDiff > tolerance;
            yield return new ReplayStep(step, latentDiff, planDiff, plan.FinalCost, result.FinalCost, result.Iterations, commandDiff, compared, diverges,
                contextFrames, contextDiff);
        }
    }

    /// <summary>
    /// The context's latents [F, L] rebuilt from the frames it names (a step's own observed latent for boundary 0, the
    /// boundary frame's latent otherwise; the context's own copy where a named frame was not recorded), and the largest
    /// difference to the latents recorded with the context.
    /// </summary>
    private static double RebuildContext(PlanContextRow context, Dictionary<long, float[]> observed,
        Dictionary<(long, int), BoundaryFrameRow> boundaryFrames, int latentSize, out float[] latents)
    {
        if (context.Latents.Length != context.Frames * latentSize || context.FrameSteps.Length != context.Frames || context.FrameBoundaries.Length != context.Frames)
            throw new InvalidDataException($"step {context.Step}: a context of {context.Frames} frames with {context.Latents.Length} latent values " +
                $"and {context.FrameSteps.Length} frame references; the model's latent has {latentSize} values");
        latents = (float[])context.Latents.Clone();
        var diff = 0.0;
        for (var j = 0; j < context.Frames; j++)
        {
            var named = context.FrameBoundaries[j] == 0
                ? observed.GetValueOrDefault(context.FrameSteps[j])
                : boundaryFrames.GetValueOrDefault((context.FrameSteps[j], context.FrameBoundaries[j]))?.Latent;
            if (named is null || named.Length != latentSize) continue;
            var slot = latents.AsSpan(j * latentSize, latentSize);
            diff = Math.Max(diff, MaxAbsDiff(named, slot));
            named.CopyTo(slot);
        }
        return diff;
    }

    /// <summary>Decodes a recorded frame (png, jpeg or raw-bgr) into <paramref name="frame"/>.</summary>
    public static void Decode(FrameRow row, Frame frame)
    {
        if (row.Format == RawBgrFrameEncoder.FormatName)
        {
            frame.EnsureSize(row.Width, row.Height);
            row.Data.AsSpan(0, Math.Min(row.Data.Length, frame.Pixels.Length)).CopyTo(frame.Pixels);
            return;
        }
        ImageIo.DecodeInto(row.Data, frame, $"frame of step {row.Step}");
    }

    private static double MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) return double.PositiveInfinity;
        double max = 0;
        for (var i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return max;
    }
}
