using System.Text.Json;
using RobotCtl.Core.Vision;
using RobotCtl.Core.WorldModel;
using RobotCtl.Episodes;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Host.Tests;

/// <summary>
/// `robotctl collect` and `robotctl episodes export --format hdf5 --size` through the real CLI (dotnet robotctl.dll),
/// read back with h5py under /usr/bin/python3: the training data path end to end, CI-sized.
/// </summary>
public class CollectExportTests
{
    /// <summary>Debian's Python with h5py and Pillow: the independent readers of the exported file.</summary>
    private const string Python = "/usr/bin/python3";

    private const string ReadBack = """
        import h5py, json, sys
        with h5py.File(sys.argv[1], "r") as f:
            out = {k: list(f[k].shape) for k in f.keys()}
            out["dtypes"] = {k: str(f[k].dtype) for k in f.keys()}
            for k in ("action", "sim_state", "proprio", "ep_len", "ep_offset", "step"):
                out[k + "_v"] = [[None if v != v else float(v) for v in row] if hasattr(row, "__len__") else int(row) for row in f[k][:].tolist()]
            out["pixels0"] = f["pixels"][0].tolist()
            out["resize"] = f.attrs["resize"]
            out["source_size"] = [int(v) for v in f.attrs["source_size"]]
            out["ids"] = json.loads(f.attrs["episode_ids"])
        print(json.dumps(out))
        """;

    private static (int Code, string Out, string Err) Run(string file, params string[] args) => TestHome.RunProcess(file, args);

    private static (int Code, string Out, string Err) Cli(params string[] args) =>
        Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "robotctl.dll"), .. args]);

    private static JsonElement H5(string path)
    {
        var (code, json, error) = Run(Python, "-c", ReadBack, path);
        Assert.True(code == 0, $"h5py read-back failed: {error}");
        return JsonDocument.Parse(json).RootElement;
    }

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();

    private static string[] Collect(string outDir, params string[] extra)
    {
        var (code, stdout, stderr) = Cli(["collect", "--sim", "--episodes", "3", "--steps", "12", "--policy", "mixed", "--out", outDir, "--seed", "3", .. extra]);
        Assert.True(code == 0, $"collect exited {code}: {stderr}");
        Assert.Contains("3 episodes x 12 steps (39 frames of 224x224)", stdout);
        Assert.Contains("0 records dropped", stdout);
        return Directory.GetFiles(outDir, "*.sqlite").Order(StringComparer.Ordinal).ToArray();
    }

    [Fact]
    public void Collected_episodes_export_to_the_training_layout()
    {
        using var dir = new TempDir();
        var files = Collect(dir.File("episodes"));
        Assert.Equal(3, files.Length);
        var commands = new List<List<CommandRow>>();
        var simStates = new List<List<SimStateRow>>();
        var armStates = new List<List<ArmStateRow>>();
        foreach (var file in files)
        {
            using var reader = EpisodeReader.Open(file);
            Assert.Equal((13L, 12L, 13L, 13L), (reader.Count("frames"), reader.Count("commands"), reader.Count("arm_states"), reader.Count("sim_states")));
            Assert.Equal(0, reader.Info.DroppedRecords);
            Assert.DoesNotContain(reader.Events(), e => e.Kind == EpisodeEventKind.Gap);
            Assert.Equal(Enumerable.Range(0, 13).Select(i => (long)i), reader.Frames().Select(f => f.Step));
            commands.Add(reader.Commands().ToList());
            simStates.Add(reader.SimStates().ToList());
            armStates.Add(reader.ArmStates().ToList());
        }

        var h5Path = dir.File("train.h5");
        var (code, stdout, stderr) = Cli("episodes", "export", dir.File("episodes"), "--format", "hdf5", "--out", h5Path, "--size", "64x64");
        Assert.True(code == 0, $"export exited {code}: {stderr}");
        Assert.Contains("39 rows from 3 episode(s) of 64x64 pixels (area-downsampled from 224x224)", stdout);
        Assert.False(File.Exists(h5Path + ".partial"));

        var h5 = H5(h5Path);
        Assert.Equal([39, 64, 64, 3], Ints(h5.GetProperty("pixels")));
        Assert.Equal("uint8", h5.GetProperty("dtypes").GetProperty("pixels").GetString());
        Assert.Equal([39, 7], Ints(h5.GetProperty("action")));
        Assert.Equal([39, 7], Ints(h5.GetProperty("proprio")));
        Assert.Equal([39, 6], Ints(h5.GetProperty("sim_state")));
        Assert.Equal("float32", h5.GetProperty("dtypes").GetProperty("sim_state").GetString());
        Assert.Equal([13, 13, 13], Ints(h5.GetProperty("ep_len_v")));
        Assert.Equal([0, 13, 26], Ints(h5.GetProperty("ep_offset_v")));
        Assert.Equal("area", h5.GetProperty("resize").GetString());
        Assert.Equal([224, 224], Ints(h5.GetProperty("source_size")));
        Assert.Equal(files.Select(Path.GetFileNameWithoutExtension), h5.GetProperty("ids").EnumerateArray().Select(e => e.GetString()));

        var action = h5.GetProperty("action_v");
        var sim = h5.GetProperty("sim_state_v");
        var proprio = h5.GetProperty("proprio_v");
        for (var ep = 0; ep < 3; ep++)
        {
            for (var step = 0; step <= 12; step++)
            {
                var row = ep * 13 + step;
                // The step's command, as recorded (float32 both ways); the final frame has none: zeros.
                float[] expected = step < 12 ? [.. Enumerable.Range(0, 7).Select(a => commands[ep][step].Sent[a])] : new float[7];
                Assert.Equal(expected, action[row].EnumerateArray().Select(v => (float)v.GetDouble()).ToArray());
                var s = simStates[ep][step].State;
                Assert.Equal(new[] { s.EeX, s.EeY, s.EeZ, s.BlockX, s.BlockY, s.BlockYaw }.Select(v => (float)v),
                    sim[row].EnumerateArray().Select(v => (float)v.GetDouble()));
                // The arm state recorded at the frame's own step (states are recorded just before their frame).
                var a = armStates[ep][step].State;
                Assert.Equal(new[] { a.X, a.Y, a.Z }.Select(v => (float)v), proprio[row].EnumerateArray().Take(3).Select(v => (float)v.GetDouble()));
            }
        }
        // The effector in the sim state is the arm state's effector: one truth.
        Assert.Equal((float)armStates[1][5].State.X, (float)simStates[1][5].State.EeX);
    }

    [Fact]
    public void Export_area_resize_equals_the_runtime_preprocessor_on_a_rendered_frame()
    {
        using var dir = new TempDir();
        var (code, _, stderr) = Cli("collect", "--episodes", "1", "--steps", "3", "--policy", "push", "--out", dir.File("eps"), "--task-scenes", "push");
        Assert.True(code == 0, stderr);
        var episode = Directory.GetFiles(dir.File("eps"), "*.sqlite").Single();
        // Not square and not an integer ratio (224/60, 224/50): footprints straddle pixels, and width/height cannot be swapped unnoticed.
        const int width = 60, height = 50;
        (code, _, stderr) = Cli("episodes", "export", episode, "--format", "hdf5", "--out", dir.File("small.h5"), "--size", $"{width}x{height}");
        Assert.True(code == 0, stderr);
        var exported = H5(dir.File("small.h5")).GetProperty("pixels0");

        var frame = new Frame(1, 1);
        using (var reader = EpisodeReader.Open(episode)) ImageIo.DecodeInto(reader.Frames().First().Data, frame);
        // Scale 1, mean 0, std 1: the preprocessor's output is the area average itself, in 0..255, planar RGB.
        using var pre = new Preprocessor(new ImageSpec(width, height, 1f, [0f, 0f, 0f], [1f, 1f, 1f]));
        var planes = new float[pre.OutputLength];
        pre.Process(frame, planes);
        var worst = 0.0;
        var distinct = new HashSet<int>();
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                for (var c = 0; c < 3; c++)
                {
                    var stored = exported[y][x][c].GetInt32();
                    distinct.Add(stored);
                    worst = Math.Max(worst, Math.Abs(stored - planes[(c * height + y) * width + x]));
                }
        // uint8 rounding of the same average: at most half a level (plus float32 summation-order noise).
        Assert.True(worst <= 0.5 + 1e-3, $"export differs from the Preprocessor by {worst} levels (limit 0.5 of 255)");
        Assert.True(distinct.Count > 20, "the rendered frame should have detail to compare");

        // Without --size the pixels are the stored PNGs decoded: checked against independent readers (SQLite, Pillow, h5py).
        (code, _, stderr) = Cli("episodes", "export", episode, "--format", "hdf5", "--out", dir.File("full.h5"));
        Assert.True(code == 0, stderr);
        var (pyCode, pyOut, pyErr) = Run(Python, "-c", """
            import h5py, io, sqlite3, sys, numpy
            from PIL import Image
            rows = sqlite3.connect(sys.argv[1]).execute("SELECT data FROM frames ORDER BY id").fetchall()
            with h5py.File(sys.argv[2], "r") as f:
                diffs = [int(numpy.abs(numpy.asarray(Image.open(io.BytesIO(r[0])).convert("RGB"), numpy.int32) - f["pixels"][i].astype(numpy.int32)).max())
                         for i, r in enumerate(rows)]
            print(len(rows), max(diffs))
            """, episode, dir.File("full.h5"));
        Assert.True(pyCode == 0, pyErr);
        Assert.Equal("4 0", pyOut.Trim());
    }

    [Fact]
    public void Collect_is_deterministic_across_worker_counts_and_refuses_bad_input()
    {
        using var dir = new TempDir();
        var one = Collect(dir.File("one"), "--workers", "1");
        var three = Collect(dir.File("three"), "--workers", "3");
        Assert.Equal(one.Select(Path.GetFileName), three.Select(Path.GetFileName));
        for (var i = 0; i < one.Length; i++)
        {
            using var a = EpisodeReader.Open(one[i]);
            using var b = EpisodeReader.Open(three[i]);
            Assert.Equal(a.SimStates().Select(r => r.State), b.SimStates().Select(r => r.State));
            Assert.Equal(a.Commands().Select(r => r.Sent), b.Commands().Select(r => r.Sent));
            Assert.Equal(a.Frames().Select(f => Convert.ToHexString(f.Data)), b.Frames().Select(f => Convert.ToHexString(f.Data)));
        }

        foreach (var (args, message) in new (string[], string)[]
                 {
                     (["--episodes", "0", "--steps", "5", "--policy", "push"], "--episodes: expected an integer >= 1, found 0"),
                     (["--episodes", "2", "--steps", "0", "--policy", "push"], "--steps: expected an integer >= 1, found 0"),
                     (["--episodes", "2", "--steps", "5", "--policy", "spiral"], "--policy: unknown policy 'spiral' (known: random-walk, push, mixed, planner)"),
                 })
        {
            var (code, _, stderr) = Cli(["collect", .. args, "--out", dir.File("bad")]);
            Assert.Equal(2, code);
            Assert.Equal($"robotctl collect: {message}", stderr.Trim());
        }
        var file = dir.File("a-file");
        File.WriteAllText(file, "");
        var (c2, _, e2) = Cli("collect", "--episodes", "1", "--steps", "1", "--policy", "push", "--out", Path.Combine(file, "sub"));
        Assert.Equal(2, c2);
        Assert.StartsWith($"robotctl collect: --out {Path.Combine(file, "sub")}: cannot write there", e2.Trim());
        // Collecting again into the same place would overwrite episodes: refused.
        var (c3, _, e3) = Cli("collect", "--episodes", "3", "--steps", "12", "--policy", "mixed", "--out", dir.File("one"), "--seed", "3");
        Assert.Equal(2, c3);
        Assert.Contains("already exists", e3);
    }

    [Fact]
    public void Planner_policy_drives_toward_the_task_goal_and_is_deterministic_across_workers()
    {
        // The shipped model's own CEM (300 x 10, horizon 5) from reach scenes: 4 plans per episode, one per block.
        using var dir = new TempDir();
        string[] Planned(string name, string workers, string noise)
        {
            var (code, stdout, stderr) = Cli("collect", "--sim", "--episodes", "2", "--steps", "20", "--policy", "planner", "--task-scenes", "reach",
                "--seed", "7", "--noise", noise, "--workers", workers, "--out", dir.File(name));
            Assert.True(code == 0, $"collect exited {code}: {stderr}");
            Assert.Contains("planner policy, workcell: cem 300 x 10 x horizon 5, 3 context frame(s)", stderr);
            Assert.Contains("2 episodes x 20 steps (42 frames of 224x224), policy planner, reach scenes", stdout);
            return Directory.GetFiles(dir.File(name), "*.sqlite").Order(StringComparer.Ordinal).ToArray();
        }
        var one = Planned("one", "1", "0");
        var two = Planned("two", "2", "0");
        var task = RobotCtl.Sim.Tasks.SimTask.Get("reach");
        var gained = 0.0;
        for (var i = 0; i < one.Length; i++)
        {
            using var a = EpisodeReader.Open(one[i]);
            using var b = EpisodeReader.Open(two[i]);
            Assert.Equal(a.Commands().Select(r => r.Sent), b.Commands().Select(r => r.Sent));
            Assert.Equal(a.SimStates().Select(r => r.State), b.SimStates().Select(r => r.State));
            Assert.Single(a.GoalImages());
            foreach (var c in a.Commands().Select(r => r.Sent))
            {
                Assert.True(Math.Abs(c.Dx) <= 0.02f && Math.Abs(c.Dy) <= 0.02f, $"command {c} beyond MaxStep");
                Assert.Equal((0f, 0f, 0f, 0f, 0f), (c.Dz, c.DRoll, c.DPitch, c.DYaw, c.Gripper));
            }
            var episode = task.Sample(7, i);
            double Distance(SimStateSample s) => Math.Sqrt(Math.Pow(s.EeX - episode.TargetX, 2) + Math.Pow(s.EeY - episode.TargetY, 2));
            var states = a.SimStates().Select(r => r.State).ToArray();
            gained += Distance(states[0]) - Distance(states[^1]);
        }
        // 20 commands of at most 2 cm: a planner that reads the goal image closes most of that on each episode.
        Assert.True(gained / one.Length > 0.10, $"the planner closed {gained / one.Length * 100:F1} cm toward the goal on average (expected > 10 cm)");

        // Noise changes the commands (the same plans' seeds, offsets per block) and is recorded in the configuration.
        var noisy = Planned("noisy", "2", "0.5");
        using (var quiet = EpisodeReader.Open(one[0]))
        using (var loud = EpisodeReader.Open(noisy[0]))
        {
            Assert.NotEqual(quiet.Commands().Select(r => r.Sent), loud.Commands().Select(r => r.Sent));
            Assert.Contains("\"Noise\":0.5", loud.Info.ConfigurationJson);
            using var config = JsonDocument.Parse(loud.Info.ConfigurationJson!);
            Assert.Equal(Path.Combine(TestHome.Root, "models", "workcell"), config.RootElement.GetProperty("Collect").GetProperty("Model").GetString());
        }

        foreach (var (args, message) in new (string[], string)[]
                 {
                     (["--policy", "planner", "--task-scenes", "none"], "--task-scenes none: the planner policy needs a task's goal (reach or push)"),
                     (["--policy", "push", "--model", "models/workcell"], "--model: only the planner policy uses a model (--policy push)"),
                     (["--policy", "planner", "--noise", "-1"], "--noise: expected 0..5 (x MaxStep), found -1"),
                 })
        {
            var (code, _, stderr) = Cli(["collect", "--episodes", "1", "--steps", "5", .. args, "--out", dir.File("bad")]);
            Assert.Equal(2, code);
            Assert.Equal($"robotctl collect: {message}", stderr.Trim());
        }
        var (missing, _, missingErr) = Cli("collect", "--episodes", "1", "--steps", "5", "--policy", "planner", "--model", dir.File("no-model"), "--out", dir.File("bad2"));
        Assert.Equal(2, missing);
        Assert.Contains("no-model", missingErr);
    }
}
