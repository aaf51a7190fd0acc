using System.Text.Json;

namespace RobotCtl.Episodes.Tests;

public class Hdf5ExportTests
{
    private static string Script => Path.Combine(Repo.Root, Hdf5Exporter.ScriptRelativePath);

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
        print(json.dumps(out))
        """;

    [Fact]
    public async Task Hdf5_export_has_the_stable_worldmodel_layout_and_reads_back_with_h5py()
    {
        using var dir = new TempDir();
        var png = await McapExportTests.RecordEpisode(dir.Path, new PngFrameEncoder(), steps: 3);
        var raw = await McapExportTests.RecordEpisode(dir.Path, new RawBgrFrameEncoder(), steps: 2);
        var output = dir.File("train.h5");

        var report = Hdf5Exporter.Export([png, raw], output, Script);
        Assert.Equal(5, JsonDocument.Parse(report).RootElement.GetProperty("rows").GetInt32());
        Assert.False(File.Exists(output + ".partial"));

        var (code, json, error) = Repo.Run(Hdf5Exporter.DefaultPython, "-c", ReadBack, output);
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

        // Pixels are RGB: the PNG path (Pillow) and the raw-bgr path both reverse the stored BGR order.
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
    public void Missing_python_is_reported_clearly()
    {
        var e = Assert.Throws<Hdf5ExportException>(() => Hdf5Exporter.Export(["x.sqlite"], "x.h5", Script, python: "/nonexistent/python3"));
        Assert.Equal("HDF5 export needs /nonexistent/python3, which does not exist (Debian: apt-get install python3 python3-numpy python3-h5py python3-pil)", e.Message);
    }

    [Fact]
    public void Non_episode_input_is_reported_clearly_and_writes_nothing()
    {
        using var dir = new TempDir();
        var junk = dir.File("junk.sqlite");
        File.WriteAllText(junk, new string('x', 400));
        var output = dir.File("out.h5");
        var e = Assert.Throws<Hdf5ExportException>(() => Hdf5Exporter.Export([junk], output, Script));
        Assert.StartsWith($"export_hdf5: not a robotctl episode: {junk}: ", e.Message);
        Assert.False(File.Exists(output));
        Assert.False(File.Exists(output + ".partial"));
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Missing_h5py_or_numpy_is_reported_with_the_packages_to_install()
    {
        using var dir = new TempDir();
        var episode = await McapExportTests.RecordEpisode(dir.Path, new RawBgrFrameEncoder(), steps: 1);
        // python3 -S skips site-packages: the same interpreter without Debian's numpy/h5py.
        var python = dir.File("python-without-packages");
        File.WriteAllText(python, "#!/bin/sh\nexec /usr/bin/python3 -S \"$@\"\n");
        File.SetUnixFileMode(python, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var e = Assert.Throws<Hdf5ExportException>(() => Hdf5Exporter.Export([episode], dir.File("out.h5"), Script, python));
        Assert.Equal("export_hdf5: missing Python package for /usr/bin/python3: numpy (Debian: apt-get install python3-numpy python3-h5py python3-pil)", e.Message);
    }
}
