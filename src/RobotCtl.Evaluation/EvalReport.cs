using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RobotCtl.Evaluation;

/// <summary>The summary of an evaluation and its two renderings: a human summary and one JSON object.</summary>
public sealed class EvalReport
{
    /// <summary>JSON fields that measure time, so differ between runs of one seed (everything else must not).</summary>
    public static IReadOnlyList<string> TimingFields { get; } = ["plan_ms_p50", "plan_ms_p99", "plan_ms_mean", "wall_s", "episode_s_mean"];

    public EvalReport(EvalSetup setup, IReadOnlyList<EvalEpisodeResult> episodes, double wallSeconds)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(episodes);
        if (episodes.Count == 0) throw new ArgumentException("an evaluation report needs at least one episode");
        Setup = setup;
        Episodes = episodes;
        WallSeconds = wallSeconds;
        Successes = episodes.Count(e => e.Success);
        Ci95 = EvalStatistics.Wilson(Successes, episodes.Count);
        var steps = episodes.Where(e => e.Steps is not null).Select(e => (double)e.Steps!.Value).ToList();
        MeanStepsToSuccess = steps.Count > 0 ? steps.Average() : null;
        var errors = episodes.Select(e => e.FinalErrorMetres * 100).ToList();
        FinalErrorCmMean = EvalStatistics.Mean(errors);
        FinalErrorCmMedian = EvalStatistics.Median(errors);
        var yaw = episodes.Where(e => e.YawErrorRadians is not null).Select(e => e.YawErrorRadians!.Value * 180 / Math.PI).ToList();
        YawErrorDegMean = yaw.Count > 0 ? yaw.Average() : null;
        var plans = episodes.SelectMany(e => e.PlanMs).ToList();
        PlanMsP50 = EvalStatistics.Percentile(plans, 50);
        PlanMsP99 = EvalStatistics.Percentile(plans, 99);
    }

    public EvalSetup Setup { get; }
    public IReadOnlyList<EvalEpisodeResult> Episodes { get; }
    public double WallSeconds { get; }
    public int Successes { get; }
    public double SuccessRate => (double)Successes / Episodes.Count;
    public (double Low, double High) Ci95 { get; }
    public double? MeanStepsToSuccess { get; }
    public double FinalErrorCmMean { get; }
    public double FinalErrorCmMedian { get; }
    public double? YawErrorDegMean { get; }
    public double PlanMsP50 { get; }
    public double PlanMsP99 { get; }

    /// <summary>One JSON object on one line (fields in docs/EVALUATION.md, "How eval runs").</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            var s = Setup;
            w.WriteStartObject();
            w.WriteString("task", s.Task);
            w.WriteNumber("episodes", Episodes.Count);
            w.WriteNumber("successes", Successes);
            w.WriteNumber("success_rate", Math.Round(SuccessRate, 4));
            w.WriteStartArray("ci95");
            w.WriteNumberValue(Math.Round(Ci95.Low, 4));
            w.WriteNumberValue(Math.Round(Ci95.High, 4));
            w.WriteEndArray();
            Nullable(w, "mean_steps_to_success", MeanStepsToSuccess, 2);
            Number(w, "final_error_cm_mean", FinalErrorCmMean, 4);
            Number(w, "final_error_cm_median", FinalErrorCmMedian, 4);
            Nullable(w, "yaw_error_deg_mean", YawErrorDegMean, 3);
            Number(w, "plan_ms_p50", PlanMsP50, 2);
            Number(w, "plan_ms_p99", PlanMsP99, 2);
            w.WriteString("planner", s.Planner);
            w.WriteString("solver", s.Solver);
            w.WriteString("model", s.Model);
            w.WriteString("model_dir", s.ModelDirectory);
            w.WriteNumber("samples", s.Samples);
            w.WriteNumber("topk", s.TopK);
            w.WriteNumber("iterations", s.Iterations);
            w.WriteNumber("horizon", s.Horizon);
            w.WriteString("cost_shape", s.CostShape);
            if (s.LatentWeights is { } lw) w.WriteString("latent_weights", lw); else w.WriteNull("latent_weights");
            w.WriteBoolean("subgoals", s.SubGoals);
            w.WriteNumber("context_frames", s.ContextFrames);
            w.WriteNumber("seed", s.Seed);
            w.WriteNumber("rate_hz", s.RateHz);
            w.WriteNumber("commands_per_cycle", s.CommandsPerCycle);
            w.WriteNumber("step_budget", s.StepBudget);
            w.WriteNumber("max_cycles", s.MaxCycles);
            w.WriteNumber("success_radius_cm", Math.Round(s.SuccessRadiusMetres * 100, 4));
            Number(w, "wall_s", WallSeconds, 2);
            Number(w, "episode_s_mean", Episodes.Average(e => e.WallSeconds), 2);
            w.WriteStartArray("per_episode");
            foreach (var e in Episodes)
            {
                w.WriteStartObject();
                w.WriteNumber("index", e.Index);
                w.WriteBoolean("success", e.Success);
                if (e.Steps is { } steps) w.WriteNumber("steps", steps); else w.WriteNull("steps");
                Number(w, "start_error_cm", e.StartErrorMetres * 100, 4);
                Number(w, "final_error_cm", e.FinalErrorMetres * 100, 4);
                Nullable(w, "yaw_error_deg", e.YawErrorRadians * 180 / Math.PI, 3);
                w.WriteNumber("cycles", e.Cycles);
                w.WriteString("outcome", e.Outcome);
                Number(w, "plan_ms_mean", EvalStatistics.Mean(e.PlanMs), 2);
                Number(w, "wall_s", e.WallSeconds, 2);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>The human summary: success with its interval, steps, errors, plan time, one line per episode.</summary>
    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var s = Setup;
        var o = new StringBuilder();
        o.AppendLine(c, $"robotctl eval: task {s.Task}, {Episodes.Count} episode(s), seed {s.Seed}; planner {s.Planner} ({s.Solver}, {s.Samples} samples, " +
            $"top {s.TopK}, {s.Iterations} iterations, horizon {s.Horizon}, cost shape {s.CostShape}{(s.LatentWeights is { } lw ? $", latent weights {lw}" : "")}, {s.ContextFrames} context frame(s){(s.SubGoals ? ", sub-goals" : "")}); model {s.Model}");
        o.AppendLine(c, $"  commands at {s.RateHz:0.##} Hz, {s.CommandsPerCycle} per cycle, budget {s.StepBudget} commands ({s.MaxCycles} cycles); success within {s.SuccessRadiusMetres * 100:0.##} cm");
        o.AppendLine(c, $"  success        {Successes}/{Episodes.Count} = {SuccessRate * 100:F1} %  (Wilson 95 % interval {Ci95.Low * 100:F1} - {Ci95.High * 100:F1} %)");
        o.AppendLine(c, $"  steps to goal  {(MeanStepsToSuccess is { } m ? $"mean {m:F1} commands (successful episodes)" : "n/a (no success)")}");
        o.AppendLine(c, $"  final error    mean {FinalErrorCmMean:F2} cm, median {FinalErrorCmMedian:F2} cm{(YawErrorDegMean is { } y ? $"; yaw error mean {y:F1} deg" : "")}");
        o.AppendLine(c, $"  plan time      p50 {PlanMsP50:F1} ms, p99 {PlanMsP99:F1} ms per cycle");
        o.AppendLine(c, $"  time           {Episodes.Average(e => e.WallSeconds):F1} s per episode, {WallSeconds:F1} s in all");
        foreach (var e in Episodes)
            o.AppendLine(c, $"    #{e.Index,-4} {(e.Success ? "success" : "failure"),-8} {(e.Steps is { } st ? $"{st} steps" : "-"),-10} error {e.FinalErrorMetres * 100,6:F2} cm" +
                $"{(e.YawErrorRadians is { } yr ? $", yaw {yr * 180 / Math.PI:F1} deg" : "")}  {e.Cycles} cycles, {e.Outcome}");
        return o.ToString();
    }

    private static void Number(Utf8JsonWriter w, string name, double value, int digits)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, Math.Round(value, digits));
        else w.WriteNull(name);
    }

    private static void Nullable(Utf8JsonWriter w, string name, double? value, int digits)
    {
        if (value is { } v) Number(w, name, v, digits);
        else w.WriteNull(name);
    }
}
