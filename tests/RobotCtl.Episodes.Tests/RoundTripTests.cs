using Microsoft.Data.Sqlite;
using RobotCtl.Core.Arm;
using RobotCtl.Core.Vision;

namespace RobotCtl.Episodes.Tests;

public class RoundTripTests
{
    internal static Frame TestFrame(int width, int height, long seq, int seed)
    {
        var f = new Frame(width, height) { Sequence = seq, CaptureTicks = 1_000 + seq };
        for (var i = 0; i < f.Pixels.Length; i++) f.Pixels[i] = (byte)(i * 7 + seed);
        return f;
    }

    internal static EpisodeMetadata Metadata(string source = "sim") => new()
    {
        Source = source, Model = "lewm-tiny@1", Calibration = "calibration/sim.json",
        ConfigurationJson = """{"Planner":{"Samples":300}}""", Seed = 42, Goals = ["goals/a.png", "goals/b.png"],
        StartTimeUtc = new DateTimeOffset(2026, 11, 21, 12, 3, 1, TimeSpan.Zero),
    };

    [Fact]
    public async Task Every_record_type_reads_back_as_recorded()
    {
        using var dir = new TempDir();
        var recorder = EpisodeRecorder.Create(dir.Path, Metadata(), new RawBgrFrameEncoder());
        var goal = TestFrame(8, 6, 99, 3);
        Assert.True(recorder.RecordGoalImage(1, 0, goal));
        var frame = TestFrame(8, 6, 5, 1);
        var latent = Enumerable.Range(0, 12).Select(i => i * 0.25f).ToArray();
        var chunk = Enumerable.Range(0, 14).Select(i => -i * 0.5f).ToArray();
        float[] costs = [9f, 4f, 2.5f];
        var requested = new EeCommand(0.1f, -0.2f, 0.3f, 0.01f, 0.02f, -0.03f, 1f);
        var sent = new EeCommand(0.05f, -0.05f, 0.05f, 0.01f, 0.02f, -0.03f, 0.5f);
        var state = new ArmState(0.4, 0.1, 0.3, 0.01, -0.02, 3.1, 0.75, 123456789, 77);
        var timings = new StepTimings(1.5, 2.5, 3.5, 40.25, 0.75, 0.125, 49);

        Assert.True(recorder.RecordFrame(3, frame));
        frame.Pixels[0] ^= 0xFF; // the recorder copied: changing the caller's frame afterwards must not matter
        Assert.True(recorder.RecordLatent(3, LatentKind.Predicted, latent, [3, 4]));
        Assert.True(recorder.RecordPlan(3, new PlanRecord
        {
            Planner = "cem", SettingsJson = """{"samples":300}""", Chunk = chunk, ChunkShape = [2, 7], CostPerIteration = costs,
            Iterations = 3, Seed = -5, DeadlineMs = 250, ElapsedMs = 180.5, FinalCost = 2.5f,
        }));
        Assert.True(recorder.RecordCommand(3, requested, sent, clampedAxes: 0b1000111, reason: "max step"));
        Assert.True(recorder.RecordArmState(3, state));
        Assert.True(recorder.RecordSurprise(3, 0.875f));
        Assert.True(recorder.RecordEvent(3, EpisodeEventKind.Reconnect, "serial link back after 120 ms"));
        Assert.True(recorder.RecordTimings(3, timings));
        await recorder.CompleteAsync(success: true, outcome: "goal reached");

        Assert.False(File.Exists(recorder.Path + "-wal")); // a finished episode is one self-contained file
        using var reader = EpisodeReader.Open(recorder.Path);
        var info = reader.Info;
        Assert.Equal(recorder.Id, info.Id);
        Assert.Matches(@"^20261121-120301-sim-[0-9a-f]{4}$", info.Id);
        Assert.Equal(("sim", "lewm-tiny@1", "calibration/sim.json", """{"Planner":{"Samples":300}}""", 42L),
            (info.Source, info.Model, info.Calibration, info.ConfigurationJson, info.Seed!.Value));
        Assert.Equal(["goals/a.png", "goals/b.png"], info.Goals);
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 12, 3, 1, TimeSpan.Zero), info.StartTimeUtc);
        Assert.True(info.Success);
        Assert.Equal("goal reached", info.Outcome);
        Assert.Equal(0, info.DroppedRecords);
        Assert.NotNull(info.EndTicks);

        var g = Assert.Single(reader.GoalImages());
        Assert.Equal((1, 8, 6, "raw-bgr", 1_099L), (g.GoalIndex, g.Width, g.Height, g.Format, g.CaptureTicks));
        Assert.Equal(goal.Pixels, g.Data);

        var f = Assert.Single(reader.Frames());
        Assert.Equal((3L, 5L, 1_005L, 8, 6, "raw-bgr"), (f.Step, f.Sequence, f.CaptureTicks, f.Width, f.Height, f.Format));
        frame.Pixels[0] ^= 0xFF;
        Assert.Equal(frame.Pixels, f.Data);

        var l = Assert.Single(reader.Latents());
        Assert.Equal((3L, LatentKind.Predicted), (l.Step, l.Kind));
        Assert.Equal([3, 4], l.Shape);
        Assert.Equal(latent, l.Values);

        var p = Assert.Single(reader.Plans());
        Assert.Equal((3L, "cem", """{"samples":300}""", -5L, 3, 250.0, 180.5, 2.5f),
            (p.Step, p.Planner, p.SettingsJson, p.Seed, p.Iterations, p.DeadlineMs, p.ElapsedMs, p.FinalCost));
        Assert.Equal(chunk, p.Chunk);
        Assert.Equal([2, 7], p.ChunkShape);
        Assert.Equal(costs, p.CostPerIteration);

        var c = Assert.Single(reader.Commands());
        Assert.Equal((3L, requested, sent, 0b1000111, "max step"), (c.Step, c.Requested, c.Sent, c.ClampedAxes, c.Reason));

        var s = Assert.Single(reader.ArmStates());
        Assert.Equal((3L, state), (s.Step, s.State));

        Assert.Equal(0.875f, Assert.Single(reader.Surprises()).Value);
        var e = Assert.Single(reader.Events());
        Assert.Equal((3L, EpisodeEventKind.Reconnect, "serial link back after 120 ms", 1L), (e.Step, e.Kind, e.Message, e.Count));
        var step = Assert.Single(reader.Steps());
        Assert.Equal((3L, timings), (step.Step, step.Timings));

        // Every row carries a monotonic timestamp taken at the Record call, in call order.
        long[] ticks = [f.Ticks, l.Ticks, p.Ticks, c.Ticks, s.Ticks, e.Ticks, step.Ticks];
        Assert.Equal(ticks.Order(), ticks);
        Assert.All(ticks, t => Assert.InRange(t, info.StartTicks, info.EndTicks!.Value));
    }

    [Fact]
    public async Task NaN_values_from_a_failed_plan_read_back_as_NaN_and_do_not_stop_the_writer()
    {
        using var dir = new TempDir();
        var recorder = EpisodeRecorder.Create(dir.Path, Metadata(), new RawBgrFrameEncoder());
        recorder.RecordPlan(0, new PlanRecord { Planner = "cem", Chunk = [float.NaN], ChunkShape = [1], CostPerIteration = [float.NaN],
            FinalCost = float.NaN, DeadlineMs = double.NaN, ElapsedMs = double.PositiveInfinity });
        recorder.RecordSurprise(0, float.NaN);
        recorder.RecordTimings(0, new StepTimings(double.NaN, 1, 1, 1, 1, 1, 1));
        await recorder.CompleteAsync(false);
        Assert.Null(recorder.Fault);

        using var reader = EpisodeReader.Open(recorder.Path);
        var p = Assert.Single(reader.Plans());
        Assert.True(float.IsNaN(p.FinalCost) && double.IsNaN(p.DeadlineMs) && float.IsNaN(p.Chunk[0]) && float.IsNaN(p.CostPerIteration[0]));
        Assert.Equal(double.PositiveInfinity, p.ElapsedMs);
        Assert.True(float.IsNaN(Assert.Single(reader.Surprises()).Value));
        Assert.True(double.IsNaN(Assert.Single(reader.Steps()).Timings.CaptureMs));
        // JSON has no NaN: the MCAP export writes null instead of failing.
        Assert.Equal(3, Mcap.McapExporter.Export(reader, Stream.Null).Messages);
    }

    [Fact]
    public async Task Summary_reports_duration_percentiles_clamps_faults_and_gaps()
    {
        using var dir = new TempDir();
        var recorder = EpisodeRecorder.Create(dir.Path, Metadata(), new RawBgrFrameEncoder());
        for (var step = 0; step < 100; step++)
        {
            recorder.RecordCommand(step, EeCommand.Hold, EeCommand.Hold, clampedAxes: step % 10 == 0 ? 1 : 0, reason: step % 10 == 0 ? "max step" : null);
            recorder.RecordSurprise(step, step == 50 ? 9f : 0.1f);
            recorder.RecordTimings(step, new StepTimings(1, 1, 1, step + 1, 1, 1, step + 6)); // plan: 1..100 ms
        }
        recorder.RecordEvent(100, EpisodeEventKind.Fault, "link lost");
        recorder.RecordEvent(100, EpisodeEventKind.EStop, "operator");
        await recorder.CompleteAsync(success: false, outcome: "e-stop");

        using var reader = EpisodeReader.Open(recorder.Path);
        var summary = EpisodeSummary.Of(reader);
        Assert.Equal((100L, 100L, 10L, 1L, 1L, 0L, 0L, true), (summary.Steps, summary.Commands, summary.ClampedCommands, summary.Faults, summary.EStops, summary.Gaps, summary.DroppedRecords, summary.Finished));
        Assert.Equal(9.0, summary.MaxSurprise!.Value, 5);
        var plan = summary.Timings.Single(t => t.Section == "plan");
        Assert.Equal((50.0, 90.0, 99.0, 100.0), (plan.P50Ms, plan.P90Ms, plan.P99Ms, plan.MaxMs));
        Assert.False(summary.Info.Success);
        Assert.True(summary.Duration > TimeSpan.Zero && summary.Duration < TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task File_carries_documented_schema_version_and_application_id()
    {
        using var dir = new TempDir();
        var recorder = EpisodeRecorder.Create(dir.Path, Metadata(), new RawBgrFrameEncoder());
        await recorder.CompleteAsync(true);
        using var c = new SqliteConnection($"Data Source={recorder.Path};Pooling=False;Mode=ReadOnly");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA user_version";
        Assert.Equal(1L, (long)cmd.ExecuteScalar()!);
        cmd.CommandText = "PRAGMA application_id";
        Assert.Equal(0x52434550L, (long)cmd.ExecuteScalar()!);
        Assert.Contains("`PRAGMA user_version = 1`", File.ReadAllText(Path.Combine(Repo.Root, "src/RobotCtl.Episodes/README.md")));
    }
}
