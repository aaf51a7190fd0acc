using System.Text.Json;
using RobotCtl.Core.Arm;
using RobotCtl.Episodes.Mcap;

namespace RobotCtl.Episodes.Tests;

public class McapExportTests
{
    /// <summary>An episode with every record type: 3 steps, 2 commands per step, PNG frames.</summary>
    internal static async Task<string> RecordEpisode(string directory, IFrameEncoder encoder, int steps = 3)
    {
        // Enough frames in flight that a tight recording loop never outruns the writer (drops are tested elsewhere).
        var recorder = EpisodeRecorder.Create(directory, RoundTripTests.Metadata(), encoder, new EpisodeRecorderOptions { MaxFramesInFlight = 64 });
        recorder.RecordGoalImage(0, 0, RoundTripTests.TestFrame(16, 12, 1000, 9));
        for (var s = 0; s < steps; s++)
        {
            recorder.RecordFrame(s, RoundTripTests.TestFrame(16, 12, s, s));
            recorder.RecordLatent(s, LatentKind.Observed, new float[192], [1, 192]);
            recorder.RecordPlan(s, new PlanRecord { Planner = "cem", Chunk = new float[10], ChunkShape = [2, 5], CostPerIteration = [3f, 2f, 1f + s], Iterations = 3, FinalCost = 1f + s });
            recorder.RecordArmState(s, new ArmState(0.1 * s, 0.2, 0.3, 0, 0, 0, 0.5, 0, (uint)s));
            recorder.RecordCommand(s, new EeCommand(0.02f, 0, 0, 0, 0, 0, 0), new EeCommand(0.01f, 0.001f * s, 0, 0, 0, 0, 0.1f), clampedAxes: 1, reason: "max step");
            recorder.RecordCommand(s, EeCommand.Hold, new EeCommand(0.01f, 0, -0.002f, 0, 0, 0.05f, 0));
            recorder.RecordSurprise(s, 0.25f * s);
            recorder.RecordTimings(s, new StepTimings(1, 2, 3, 4, 5, 6, 21 + s));
        }
        recorder.RecordEvent(steps, EpisodeEventKind.Note, "done");
        await recorder.CompleteAsync(true, "goal reached");
        Assert.Equal(0, recorder.DroppedRecords);
        return recorder.Path;
    }

    private static JsonElement ReadWithMcapCore(string mcapPath)
    {
        var script = Path.Combine(Repo.Root, "tests/js/read-mcap.mjs");
        Assert.True(Directory.Exists(Path.Combine(Repo.Root, "tests/js/node_modules/@mcap/core")),
            "tests/js/node_modules is missing: run scripts/setup (npm ci in tests/js)");
        var (code, output, error) = Repo.Run("node", script, mcapPath);
        Assert.True(code == 0, $"node read-mcap.mjs failed ({code}): {error}");
        return JsonDocument.Parse(output).RootElement;
    }

    [Fact]
    public async Task Mcap_export_reads_back_with_mcap_core()
    {
        using var dir = new TempDir();
        var episode = await RecordEpisode(dir.Path, new PngFrameEncoder());
        var mcapPath = dir.File("episode.mcap");
        McapExportResult result;
        using (var reader = EpisodeReader.Open(episode)) result = McapExporter.Export(reader, mcapPath);

        var mcap = ReadWithMcapCore(mcapPath);
        var expected = new Dictionary<string, int>
        {
            ["/camera/image"] = 3, ["/goal/image"] = 1, ["/arm/command"] = 6, ["/arm/state"] = 3, ["/planner/plan"] = 3,
            ["/loop/timings"] = 3, ["/world_model/surprise"] = 3, ["/episode/events"] = 1,
        };
        var topics = mcap.GetProperty("topics");
        Assert.Equal(expected.Keys.Order(), topics.EnumerateObject().Select(p => p.Name).Order());
        foreach (var (topic, count) in expected) Assert.Equal(count, topics.GetProperty(topic).GetProperty("count").GetInt32());
        Assert.Equal(expected, result.MessagesPerTopic.ToDictionary(kv => kv.Key, kv => (int)kv.Value));
        Assert.Equal(result.Bytes, new FileInfo(mcapPath).Length);

        var stats = mcap.GetProperty("statistics");
        Assert.Equal(23, stats.GetProperty("messageCount").GetInt32());
        Assert.Equal(8, stats.GetProperty("channelCount").GetInt32());
        Assert.Equal(1, stats.GetProperty("metadataCount").GetInt32());
        Assert.Equal(3, stats.GetProperty("channelMessageCounts").GetProperty("/arm/state").GetInt32());
        Assert.True(mcap.GetProperty("ordered").GetBoolean());
        Assert.True(mcap.GetProperty("dataEndCrcOk").GetBoolean());
        Assert.Equal(mcap.GetProperty("chunkIndexes").GetInt32(), mcap.GetProperty("streamCounts").GetProperty("Chunk").GetInt32());

        var image = topics.GetProperty("/camera/image");
        Assert.Equal(("foxglove.CompressedImage", "jsonschema", "json"),
            (image.GetProperty("schema").GetString(), image.GetProperty("schemaEncoding").GetString(), image.GetProperty("messageEncoding").GetString()));
        var firstImage = mcap.GetProperty("first").GetProperty("/camera/image").GetProperty("data");
        Assert.Equal("png", firstImage.GetProperty("format").GetString());
        Assert.Equal("camera", firstImage.GetProperty("frame_id").GetString());
        Assert.Equal(PngFrameEncoder.EncodePng(RoundTripTests.TestFrame(16, 12, 0, 0)), Convert.FromBase64String(firstImage.GetProperty("data").GetString()!));

        // Log times are Unix nanoseconds from the episode's wall-clock start (2026-11-21 12:03:01 UTC).
        var startNs = (RoundTripTests.Metadata().StartTimeUtc - DateTimeOffset.UnixEpoch).Ticks * 100m;
        var logTime = decimal.Parse(mcap.GetProperty("first").GetProperty("/arm/command").GetProperty("logTime").GetString()!);
        Assert.InRange(logTime - startNs, 0m, 60e9m);

        var command = mcap.GetProperty("first").GetProperty("/arm/command").GetProperty("data");
        Assert.Equal(0, command.GetProperty("step").GetInt32());
        Assert.Equal(0.01, command.GetProperty("sent").GetProperty("dx").GetDouble(), 6);
        Assert.Equal(0.02, command.GetProperty("requested").GetProperty("dx").GetDouble(), 6);
        Assert.True(command.GetProperty("clamped").GetBoolean());
        Assert.Equal("max step", command.GetProperty("reason").GetString());

        var plan = mcap.GetProperty("first").GetProperty("/planner/plan").GetProperty("data");
        Assert.Equal([3.0, 2.0, 1.0], plan.GetProperty("costs").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Equal("lewm-tiny@1", mcap.GetProperty("metadata").GetProperty("robotctl.episode").GetProperty("model").GetString());
    }

    [Fact]
    public async Task Raw_frames_export_as_foxglove_raw_images()
    {
        using var dir = new TempDir();
        var episode = await RecordEpisode(dir.Path, new RawBgrFrameEncoder(), steps: 1);
        var mcapPath = dir.File("raw.mcap");
        using (var reader = EpisodeReader.Open(episode)) McapExporter.Export(reader, mcapPath);
        var mcap = ReadWithMcapCore(mcapPath);
        Assert.Equal("foxglove.RawImage", mcap.GetProperty("topics").GetProperty("/camera/image").GetProperty("schema").GetString());
        var image = mcap.GetProperty("first").GetProperty("/camera/image").GetProperty("data");
        Assert.Equal(("bgr8", 16, 12, 48), (image.GetProperty("encoding").GetString(), image.GetProperty("width").GetInt32(),
            image.GetProperty("height").GetInt32(), image.GetProperty("step").GetInt32()));
        Assert.Equal(RoundTripTests.TestFrame(16, 12, 0, 0).Pixels, Convert.FromBase64String(image.GetProperty("data").GetString()!));
    }

    [Fact]
    public async Task Large_export_spans_several_chunks_with_valid_indexes()
    {
        using var dir = new TempDir();
        var episode = await RecordEpisode(dir.Path, new RawBgrFrameEncoder(), steps: 40);
        var mcapPath = dir.File("big.mcap");
        using (var reader = EpisodeReader.Open(episode))
        using (var file = File.Create(mcapPath))
            McapExporter.Export(reader, file, chunkSize: 4096);
        var mcap = ReadWithMcapCore(mcapPath);
        var chunks = mcap.GetProperty("chunkIndexes").GetInt32();
        Assert.InRange(chunks, 5, 1000);
        Assert.Equal(chunks, mcap.GetProperty("streamCounts").GetProperty("Chunk").GetInt32());
        Assert.Equal(40, mcap.GetProperty("topics").GetProperty("/camera/image").GetProperty("count").GetInt32());
        Assert.Equal(40 * 7 + 2, mcap.GetProperty("statistics").GetProperty("messageCount").GetInt32());
        Assert.True(mcap.GetProperty("ordered").GetBoolean());
    }
}
