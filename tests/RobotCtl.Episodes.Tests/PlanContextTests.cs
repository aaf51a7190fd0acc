using Microsoft.Data.Sqlite;
using RobotCtl.Episodes.Mcap;

namespace RobotCtl.Episodes.Tests;

/// <summary>
/// The optional context-history tables (boundary_frames, plan_contexts): what a run with Planner:ContextFrames &gt; 1
/// records, read back exactly; files without them (older ones, single-frame runs) stay readable and report no contexts.
/// </summary>
public class PlanContextTests
{
    [Fact]
    public async Task Boundary_frames_and_plan_contexts_read_back_as_recorded()
    {
        using var dir = new TempDir();
        var recorder = EpisodeRecorder.Create(dir.Path, RoundTripTests.Metadata(), new RawBgrFrameEncoder(), id: "with-context");
        var frame = RoundTripTests.TestFrame(8, 6, seq: 42, seed: 3);
        int[] latentShape = [2];
        Assert.True(recorder.RecordBoundaryFrame(0, 5, 5, frame, [0.5f, -0.25f], latentShape, [1f, 2f, 3f, 0, 0, 0, 0.5f]));
        // Three frames: step 0's own (serial 0), its chunk's boundary after 5 actions (serial 5), step 1's own (serial 10);
        // two executed blocks of 5 x 1 values between them; one 7-D state per frame.
        float[] latents = [1, 2, 0.5f, -0.25f, 3, 4];
        var actions = Enumerable.Range(0, 10).Select(i => i * 0.001f).ToArray();
        var states = Enumerable.Range(0, 21).Select(i => (float)i).ToArray();
        Assert.True(recorder.RecordPlanContext(1, new PlanContextRecord
        {
            FrameSteps = [0, 0, 1], FrameBoundaries = [0, 5, 0], Serials = [0, 5, 10], LatentShape = latentShape,
            Latents = latents, PastActions = actions, States = states, ActionBlock = 5, ActionDim = 1, StateDim = 7,
        }));
        await recorder.CompleteAsync(null);

        using var reader = EpisodeReader.Open(recorder.Path);
        Assert.True(reader.HasPlanContexts);
        Assert.Equal(1, reader.Info.SchemaVersion); // optional tables keep the version
        var b = Assert.Single(reader.BoundaryFrames());
        Assert.Equal((0L, 5, 5L, 1_042L, 42L, 8, 6, "raw-bgr"), (b.Step, b.Boundary, b.Serial, b.CaptureTicks, b.Sequence, b.Width, b.Height, b.Format));
        Assert.Equal(frame.Pixels, b.Data);
        Assert.Equal([2], b.LatentShape);
        Assert.Equal([0.5f, -0.25f], b.Latent);
        Assert.Equal([1f, 2f, 3f, 0, 0, 0, 0.5f], b.State);
        var c = Assert.Single(reader.PlanContexts());
        Assert.Equal((1L, 3, 5, 1, 7), (c.Step, c.Frames, c.ActionBlock, c.ActionDim, c.StateDim));
        Assert.Equal([0L, 0, 1], c.FrameSteps);
        Assert.Equal([0, 5, 0], c.FrameBoundaries);
        Assert.Equal([0L, 5, 10], c.Serials);
        Assert.Equal([2], c.LatentShape);
        Assert.Equal(latents, c.Latents);
        Assert.Equal(actions, c.PastActions);
        Assert.Equal(states, c.States);
        Assert.Equal(1, reader.Count("plan_contexts"));
        Assert.Equal(1, reader.Count("boundary_frames"));
    }

    [Fact]
    public async Task A_context_whose_references_do_not_line_up_is_refused()
    {
        using var dir = new TempDir();
        var recorder = EpisodeRecorder.Create(dir.Path, RoundTripTests.Metadata(), new RawBgrFrameEncoder());
        var e = Assert.Throws<ArgumentException>(() => recorder.RecordPlanContext(0, new PlanContextRecord
        {
            FrameSteps = [0, 1], FrameBoundaries = [0], Serials = [0, 5], LatentShape = [1], Latents = [1f, 2f],
        }));
        Assert.Contains("frame steps, boundaries and serials", e.Message);
        await recorder.CompleteAsync(null);
    }

    [Fact]
    public async Task A_file_without_the_context_tables_reads_and_exports_with_no_contexts()
    {
        using var dir = new TempDir();
        var path = await McapExportTests.RecordEpisode(dir.Path, new RawBgrFrameEncoder(), steps: 2);
        using (var c = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "DROP TABLE plan_contexts; DROP TABLE boundary_frames";
            cmd.ExecuteNonQuery();
        }
        using var reader = EpisodeReader.Open(path);
        Assert.False(reader.HasPlanContexts);
        Assert.Empty(reader.PlanContexts());
        Assert.Empty(reader.BoundaryFrames());
        Assert.Equal(0, reader.Count("plan_contexts"));
        Assert.NotNull(reader.LastTicks());
        Assert.Equal(2, EpisodeSummary.Of(reader).Steps);
        Assert.True(McapExporter.Export(reader, dir.File("old.mcap")).Messages > 0);
    }
}
