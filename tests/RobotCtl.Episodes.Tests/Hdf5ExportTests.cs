using System.Text.Json;

namespace RobotCtl.Episodes.Tests;

public class Hdf5ExportTests
{
    private const string ReadBack = """
        import h5py, json, sys
        with h5py.File(sys.argv[1], "r") as f:
            out = {k: {"shape": list(f[k].shape), "dtype": str(f[k].dtype)} for k in f.keys()}
            out["pixels0"] = f["pixels"][0].tolist()
            out["pixels_last"] = f["pixels"][-1].tolist()
            out["action_v"] = f["action"][:].tolist()
            out["proprio_v"] = f["proprio"][:].tolist()
            out["ep_len_v"] = f["ep_len"][:].tolist()
            out["ep_offset_v"] = f["ep_offset"][:].tolist()
            out["step_v"] = f["step"][:].tolist()
            out["ids"] = json.loads(f.attrs["episode_ids"])
            out["attrs"] = {k: v if isinstance(v, str) else v.tolist() for k, v in f.attrs.items()}
            p = f["pixels"]
            out["pixels_storage"] = [list(p.chunks), p.compression, bool(p.shuffle)]
        print(json.dumps(out))
        """;

    [Fact]
    public async Task Hdf5_export_has_the_stable_worldmodel_layout_and_reads_back_with_h5py()
    {
        using var dir = new TempDir();
        var png = await McapExportTests.RecordEpisode(dir.Path, new PngFrameEncoder(), steps: 3);
        var raw = await McapExportTests.RecordEpisode(dir.Path, new RawBgrFrameEncoder(), steps: 2);
        var output = dir.File("train.h5");

        var result = Hdf5Exporter.Export([png, raw], output, new TestPngDecoder());
        Assert.Equal((5, 2, 16, 12, false), (result.Rows, result.Episodes, result.Width, result.Height, result.Resized));
        Assert.False(File.Exists(output + ".partial"));

        var (code, json, error) = Repo.Run(Repo.Python, "-c", ReadBack, output);
        Assert.True(code == 0, error);
        var h5 = JsonDocument.Parse(json).RootElement;
        void Shape(string name, string dtype, params int[] shape)
        {
            Assert.Equal(dtype, h5.GetProperty(name).GetProperty("dtype").GetString());
            Assert.Equal(shape, h5.GetProperty(name).GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        }
        Shape("pixels", "uint8", 5, 12, 16, 3);
        Shape("action", "float32", 5, 7);
        Shape("proprio", "float32", 5, 7);
        Shape("ep_len", "int64", 2);
        Shape("ep_offset", "int64", 2);
        Assert.Equal([3, 2], h5.GetProperty("ep_len_v").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([0, 3], h5.GetProperty("ep_offset_v").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([0, 1, 2, 0, 1], h5.GetProperty("step_v").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(2, h5.GetProperty("ids").GetArrayLength());
        var attrs = h5.GetProperty("attrs");
        Assert.Equal("none", attrs.GetProperty("resize").GetString());
        Assert.Equal([16, 12], attrs.GetProperty("source_size").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(1, attrs.GetProperty("robotctl_schema_version").GetInt32());
        Assert.Equal(Hdf5Exporter.SimStateColumns, JsonSerializer.Deserialize<string[]>(attrs.GetProperty("sim_state_columns").GetString()!)!);
        Assert.Equal([png, raw], JsonSerializer.Deserialize<string[]>(attrs.GetProperty("sources").GetString()!)!);
        // One chunk per frame, shuffled and deflated (rendered scenes compress well; the trainer reads any layout).
        Assert.Equal("[[1, 12, 16, 3], \"gzip\", true]", h5.GetProperty("pixels_storage").GetRawText());

        // Pixels are RGB: the PNG path and the raw-bgr path both reverse the stored BGR order.
        AssertRgb(RoundTripTests.TestFrame(16, 12, 0, 0), h5.GetProperty("pixels0"));
        AssertRgb(RoundTripTests.TestFrame(16, 12, 1, 1), h5.GetProperty("pixels_last"));

        // action = sum of the step's sent commands: (0.01, 0.001 s, 0, ..., 0.1) + (0.01, 0, -0.002, 0, 0, 0.05, 0).
        var action = h5.GetProperty("action_v")[2].EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal([0.02, 0.002, -0.002, 0, 0, 0.05, 0.1], action, (a, b) => Math.Abs(a - b) < 1e-6);
        // proprio = the arm state recorded in the same step (recorded after the frame, so the one before: step 1's).
        var proprio1 = h5.GetProperty("proprio_v")[2].EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal([0.1, 0.2, 0.3, 0, 0, 0, 0.5], proprio1, (a, b) => Math.Abs(a - b) < 1e-6);
        // The first frame precedes every state: it gets the first state (step 0), never NaN.
        var proprio0 = h5.GetProperty("proprio_v")[0].EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal([0, 0.2, 0.3, 0, 0, 0, 0.5], proprio0, (a, b) => Math.Abs(a - b) < 1e-6);
    }

    private static void AssertRgb(RobotCtl.Core.Vision.Frame bgr, JsonElement pixels)
    {
        for (var y = 0; y < bgr.Height; y++)
            for (var x = 0; x < bgr.Width; x++)
                for (var c = 0; c < 3; c++)
                    Assert.Equal(bgr.Pixels[y * bgr.Stride + x * 3 + (2 - c)], pixels[y][x][c].GetInt32());
    }

    [Fact]
    public async Task Area_downsampling_averages_the_footprint_and_is_marked_in_the_attributes()
    {
        using var dir = new TempDir();
        var raw = await McapExportTests.RecordEpisode(dir.Path, new RawBgrFrameEncoder(), steps: 1);
        var output = dir.File("small.h5");
        var result = Hdf5Exporter.Export([raw], output, decoder: null, size: (8, 6));
        Assert.Equal((8, 6, 16, 12, true), (result.Width, result.Height, result.SourceWidth, result.SourceHeight, result.Resized));

        var (code, json, error) = Repo.Run(Repo.Python, "-c", ReadBack, output);
        Assert.True(code == 0, error);
        var h5 = JsonDocument.Parse(json).RootElement;
        Assert.Equal("area", h5.GetProperty("attrs").GetProperty("resize").GetString());
        // 16x12 -> 8x6 is exactly 2x2 blocks: each output pixel is the rounded mean of four source pixels (RGB order).
        var source = RoundTripTests.TestFrame(16, 12, 0, 0);
        var pixels = h5.GetProperty("pixels0");
        for (var y = 0; y < 6; y++)
            for (var x = 0; x < 8; x++)
                for (var c = 0; c < 3; c++)
                {
                    double sum = 0;
                    for (var dy = 0; dy < 2; dy++)
                        for (var dx = 0; dx < 2; dx++) sum += source.Pixels[(2 * y + dy) * source.Stride + (2 * x + dx) * 3 + (2 - c)];
                    Assert.Equal(Math.Round(sum / 4, MidpointRounding.ToEven), pixels[y][x][c].GetInt32());
                }
    }

    [Fact]
    public async Task Bad_frames_and_paths_are_reported_clearly_and_leave_nothing_behind()
    {
        using var dir = new TempDir();
        var png = await McapExportTests.RecordEpisode(dir.Path, new PngFrameEncoder(), steps: 2);
        var output = dir.File("out.h5");

        // PNG frames without a decoder: the export stops at the first, naming it.
        var e = Assert.Throws<Hdf5ExportException>(() => Hdf5Exporter.Export([png], output, decoder: null));
        Assert.Equal($"{png}: frame of step 0: png frames need an image decoder (robotctl's export uses OpenCV's)", e.Message);
        Assert.False(File.Exists(output));
        Assert.False(File.Exists(output + ".partial"));

        // A decoder that fails on the second frame: its message is kept, the half-written file removed.
        e = Assert.Throws<Hdf5ExportException>(() => Hdf5Exporter.Export([png], output, new TestPngDecoder(failAt: 1)));
        Assert.Equal($"{png}: frame of step 1: cannot decode its png data: corrupt test data", e.Message);
        Assert.False(File.Exists(output));
        Assert.False(File.Exists(output + ".partial"));

        // Pixels that would not fit in memory (PureHDF writes chunks only when the file closes) are refused up front.
        e = Assert.Throws<Hdf5ExportException>(() => Hdf5Exporter.Export([png], output, new TestPngDecoder(), maxPixelBytes: 1000));
        Assert.Equal("2 frames of 16x12 are 0 MB of pixels, which the HDF5 writer holds in memory until the file is closed: more than the 0 MB " +
                     "allowed (half the memory available); export fewer episodes per file or downsample with --size", e.Message);
        Assert.False(File.Exists(output + ".partial"));

        Assert.Equal($"--out {dir.Path}: is a directory, expected a file path",
            Assert.Throws<ArgumentException>(() => Hdf5Exporter.Export([png], dir.Path, new TestPngDecoder())).Message);
        Assert.StartsWith("--out ", Assert.Throws<ArgumentException>(() => Hdf5Exporter.Export([png], dir.File("missing/out.h5"), new TestPngDecoder())).Message);
        Assert.Equal($"--size 32x8: larger than the recorded frames (16x12 in {png}); only downsampling is supported",
            Assert.Throws<ArgumentException>(() => Hdf5Exporter.Export([png], output, new TestPngDecoder(), size: (32, 8))).Message);
    }

    [Fact]
    public void Non_episode_input_is_reported_clearly_and_writes_nothing()
    {
        using var dir = new TempDir();
        var junk = dir.File("junk.sqlite");
        File.WriteAllText(junk, new string('x', 400));
        var output = dir.File("out.h5");
        var e = Assert.Throws<EpisodeFormatException>(() => Hdf5Exporter.Export([junk], output, new TestPngDecoder()));
        Assert.StartsWith($"not a robotctl episode: {junk}: ", e.Message);
        Assert.False(File.Exists(output));
        Assert.False(File.Exists(output + ".partial"));
    }
}
