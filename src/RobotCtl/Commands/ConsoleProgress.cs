using RobotCtl.Runtime;
using RobotCtl.Runtime.Composition;

namespace RobotCtl.Host.Commands;

/// <summary>Progress a person can follow: one line per control cycle, a header before and a summary after.</summary>
public sealed class ConsoleProgress(TextWriter output, bool quiet)
{
    public void Header(RuntimeComponents c, RunSettings s, ControlLoop loop)
    {
        var spec = c.Model.Spec;
        output.WriteLine($"robotctl run: model {spec.Name} ({spec.Family}, latent [{string.Join("x", spec.LatentShape)}], {spec.ActionBlock}x{spec.ActionDim} actions per block)");
        output.WriteLine($"  camera {c.Camera.Description}; arm {c.Arm.Description}; commands at {1.0 / c.Streamer.Period.TotalSeconds:0.#} Hz; " +
            $"{loop.BlocksPerCycle} of {c.Planner.Options.Horizon} blocks executed per plan ({s.Runtime.ReplanMode.ToString().ToLowerInvariant()})");
        output.WriteLine($"  {c.Goals.Count} goal(s): {string.Join(", ", c.Goals.Paths.Select(Path.GetFileName))}; success below distance {s.Runtime.SuccessThreshold}; at most {s.Runtime.MaxSteps} steps");
        if (c.Recorder is not null) output.WriteLine($"  recording {c.Recorder.Path}");
        if (!quiet) output.WriteLine("  step  goal   distance   plan ms  iters   cost        surprise (x baseline)");
    }

    public void Report(CycleReport r)
    {
        if (quiet) return;
        var surprise = double.IsNaN(r.Surprise) ? "-" : double.IsNaN(r.SurpriseRatio) ? $"{r.Surprise:F4}" : $"{r.Surprise:G3} ({r.SurpriseRatio:F1}x)";
        var flag = r.SurpriseAction == SurpriseAction.None ? "" : $"  {r.SurpriseAction.ToString().ToUpperInvariant()}";
        output.WriteLine($"  {r.Step,4}  {r.GoalIndex + 1}/{r.GoalCount}  {r.GoalDistance,9:G3}  {r.PlanMs,8:F1}  {r.Iterations,5}{(r.StoppedByDeadline ? "*" : " ")}  {r.PlanCost,10:G4}  {surprise}{flag}");
    }

    public void Summary(RunOutcome outcome, ControlLoop loop, RuntimeComponents c)
    {
        var t = loop.Timer;
        output.WriteLine($"robotctl run: {outcome} after {loop.Step} step(s): {loop.OutcomeMessage}");
        if (t.Cycles > 0)
        {
            output.WriteLine("  section timings (ms)  p50      p99");
            foreach (var section in Enum.GetValues<Section>())
                output.WriteLine($"    {section.ToString().ToLowerInvariant(),-12} {t.Percentile(section, 50),8:F2} {t.Percentile(section, 99),8:F2}");
        }
        output.WriteLine($"  commands: {c.Streamer.Ticks} ticks at {1000 / c.Streamer.Period.TotalMilliseconds:0.#} Hz, {c.Streamer.Holds} holds, " +
            $"{c.Streamer.Overruns} overruns, {c.Streamer.Undelivered} refused by the link, jitter p99 {c.Streamer.JitterPercentile(99):F2} ms; governor: " +
            (c.Governor.Counts().Where(kv => kv.Value > 0).Select(kv => $"{kv.Key} {kv.Value}").DefaultIfEmpty("no clamps or refusals").Aggregate((a, b) => $"{a}, {b}")));
        output.WriteLine($"  managed allocations on the control loop: {loop.AllocationReport()}");
        output.WriteLine($"  frame-to-command latency: p50 {c.Streamer.FrameToCommandPercentile(50):F1} ms, p99 {c.Streamer.FrameToCommandPercentile(99):F1} ms");
        if (c.Recorder is not null) output.WriteLine($"  episode {c.Recorder.Id}: {c.Recorder.Path} (replay: ./robotctl replay {c.Recorder.Id})");
    }
}
