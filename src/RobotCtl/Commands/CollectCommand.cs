using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RobotCtl.Core.Timing;
using RobotCtl.Core.WorldModel;
using RobotCtl.Host.Composition;
using RobotCtl.Inference;
using RobotCtl.Core.Vision;
using RobotCtl.Episodes;
using RobotCtl.Runtime.Composition;
using RobotCtl.Runtime;
using RobotCtl.Sim;
using RobotCtl.Sim.Tasks;

namespace RobotCtl.Host.Commands;

/// <summary>
/// `robotctl collect`: world-model training data from the simulated workcell. Each episode starts from a scene drawn
/// from (seed, episode index), and an exploration policy (no goal) drives the workcell directly for T steps, recorded
/// as an ordinary episode file: T + 1 frames (the same renderer and view as `run`'s sim camera), arm states and true
/// sim states at steps 0..T, and T commands. Deterministic in the seed: episode i depends only on (seed, i), whatever
/// the number of workers. Exit 0 ok, 1 recording failed, 2 bad input.
/// </summary>
internal static class CollectCommand
{
    internal static readonly string[] SceneChoices = ["reach", "push", "none"];

    /// <summary>The goal-directed policy: the world model's planner (<see cref="PlannerCollectPolicy"/>).</summary>
    internal const string PlannerPolicy = "planner";

    internal static IEnumerable<string> PolicyNames => ExplorationPolicy.Names.Append(PlannerPolicy);

    private const ulong PolicySeedTag = 0xC011_EC70_0000_0001UL;
    private const ulong SceneSeedTag = 0xC011_EC70_0000_0002UL;

    internal sealed record Arguments(int Episodes, int Steps, string Policy, string Out, int Seed = 0, string TaskScenes = "reach", int Workers = 2,
        string? Model = null, double Noise = 0.3);

    public static Command Create()
    {
        var sim = new Option<bool>("--sim") { Description = "Collect on the simulated workcell (the only source collect supports; accepted for symmetry with `run`)" };
        var episodes = new Option<int>("--episodes") { Description = "Number of episodes", Required = true };
        var steps = new Option<int>("--steps") { Description = "Commands per episode (each episode has steps + 1 frames)", Required = true };
        var policy = new Option<string>("--policy") { Description = $"Exploration policy: {string.Join(", ", PolicyNames)}", Required = true };
        var output = new Option<string>("--out") { Description = "Directory for the episode files (created; one <prefix>-eNNNNNN.sqlite per episode)", Required = true };
        var seed = new Option<int>("--seed") { Description = "Seed of the start scenes and the policy's noise (default 0)", DefaultValueFactory = _ => 0 };
        var scenes = new Option<string>("--task-scenes")
        {
            Description = "Start-state distribution: reach or push (that task's start scenes), none (the workcell's own seeded block, effector at its default start)",
            DefaultValueFactory = _ => "reach",
        };
        var workers = new Option<int>("--workers")
        {
            Description = "Episodes recorded at once (each has a stepping thread and a writer task)",
            DefaultValueFactory = _ => Math.Clamp(Environment.ProcessorCount, 2, 8),
        };
        var model = new Option<string?>("--model") { Description = "planner policy: the model directory whose planner drives [Runtime:Model]" };
        var noise = new Option<double>("--noise")
        {
            Description = "planner policy: std of the exploration offset added to each planned block's dx, dy, as a fraction of MaxStep (2 cm) (default 0.3)",
            DefaultValueFactory = _ => 0.3,
        };
        var command = new Command("collect",
            "Record exploration episodes on the simulated workcell for world-model training. Per episode: a start scene drawn " +
            "from the seed (block pose and effector start; --task-scenes), then --steps steps of: render the frame (Sim:Width x " +
            "Sim:Height, the top-down view `run` uses), record it with the arm state and the sim's true state, apply the " +
            "policy's command (dx, dy only) to the workcell, record the command; one more frame and state after the last " +
            "command. random-walk: a velocity random walk with momentum that bounces off the walls; push: drives behind the " +
            "block and pushes it through its centre for 5..20 steps, again and again; mixed: switches between the two every " +
            "20..50 steps (40 % random-walk, 60 % push). planner: the model's own planner (the settings `run` uses, Planner " +
            "section and --model) drives toward the task episode's goal image from the last frames, replanning every block, with " +
            "a Gaussian offset per block (--noise): on-policy data near contact and goals. Deterministic for a seed; the recorder is throttled so that no frame " +
            "is dropped. Export for training with `robotctl episodes export <dir> --format hdf5 --out data.h5 --size 64x64`.")
        {
            sim, episodes, steps, policy, output, seed, scenes, workers, model, noise,
        };
        command.SetAction((r, ct) => RunAsync(new Arguments(r.GetValue(episodes), r.GetValue(steps), r.GetValue(policy)!, r.GetValue(output)!,
            r.GetValue(seed), r.GetValue(scenes)!, r.GetValue(workers), r.GetValue(model), r.GetValue(noise)), Console.Out, Console.Error, ct));
        return command;
    }

    internal static async Task<int> RunAsync(Arguments a, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        string outDir;
        SimOptions simOptions;
        var planners = new List<PlannerCollectPolicy>();
        try
        {
            // Episode files are numbered with six digits; an episode is one recording, not a day's stream; a worker is a thread.
            foreach (var (name, value, max, why) in new[] { ("--episodes", a.Episodes, 999_999, "episode files are numbered -e000000..-e999999"),
                         ("--steps", a.Steps, 1_000_000, "split longer collections into more episodes"), ("--workers", a.Workers, 64, "each has a stepping thread and a writer") })
                if (CliErrors.OutOfRange(name, value, 1, max, _ => why) is { } error) throw new ArgumentException(error);
            if (!PolicyNames.Contains(a.Policy)) throw new ArgumentException($"--policy: unknown policy '{a.Policy}' (known: {string.Join(", ", PolicyNames)})");
            if (!SceneChoices.Contains(a.TaskScenes)) throw new ArgumentException($"--task-scenes: expected one of {string.Join(", ", SceneChoices)}, found '{a.TaskScenes}'");
            var planning = a.Policy == PlannerPolicy;
            if (!planning && a.Model is not null) throw new ArgumentException($"--model: only the planner policy uses a model (--policy {a.Policy})");
            if (planning && a.TaskScenes == "none") throw new ArgumentException("--task-scenes none: the planner policy needs a task's goal (reach or push)");
            if (!(a.Noise >= 0 && a.Noise <= 5)) throw new ArgumentException($"--noise: expected 0..5 (x MaxStep), found {a.Noise.ToString(CultureInfo.InvariantCulture)}");
            simOptions = AppConfiguration.Bind<SimOptions>(AppConfiguration.Build(), SimOptions.SectionName);
            simOptions.Validate();
            if (planning) CreatePlanners(a, planners, stderr); // a model that does not load leaves no output behind
            outDir = PrepareOutput(a);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or UnauthorizedAccessException
                                      or WorldModelException or InferenceSetupException or ConfigurationValueException or FormatException)
        {
            foreach (var p in planners) p.Dispose();
            stderr.WriteLine($"robotctl collect: {e.Message.ReplaceLineEndings(" ")}");
            return CliErrors.BadInput;
        }
        try
        {
            return await CollectAsync(a, outDir, simOptions, planners, stdout, stderr, ct).ConfigureAwait(false);
        }
        finally
        {
            foreach (var p in planners) p.Dispose();
        }
    }

    /// <summary>One planner per worker, each with its own ONNX Runtime session; the cores are shared between them.</summary>
    private static void CreatePlanners(Arguments a, List<PlannerCollectPolicy> planners, TextWriter stderr)
    {
        var workers = Math.Min(a.Workers, a.Episodes);
        var threads = Math.Max(1, Environment.ProcessorCount / workers).ToString(CultureInfo.InvariantCulture);
        var services = HostServices.Create(AppConfiguration.Build(new SettingsOverrides
        {
            Model = a.Model is null ? null : Path.GetFullPath(RobotCtlHome.Resolve(a.Model)),
            NoDeadline = true,
            Sets = [$"Inference:IntraOpThreads={threads}"],
        }));
        using (services)
        {
            var factory = services.Factory();
            for (var w = 0; w < workers; w++) planners.Add(new PlannerCollectPolicy(factory, a.Noise));
        }
        stderr.WriteLine($"robotctl collect: planner policy, {planners[0].Describe()}; {workers} worker(s) x {threads} ONNX Runtime thread(s)");
    }

    private static async Task<int> CollectAsync(Arguments a, string outDir, SimOptions simOptions, List<PlannerCollectPolicy> planners,
        TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var render = new SimRenderOptions { Width = simOptions.Width, Height = simOptions.Height };
        var progress = new Progress(a.Episodes, a.Steps + 1, stderr);
        var clock = Stopwatch.StartNew();
        var next = -1;
        long dropped = 0;
        var failures = new List<string>();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var workerCount = Math.Min(a.Workers, a.Episodes);
        var tasks = new Task[workerCount];
        for (var w = 0; w < workerCount; w++)
        {
            var planner = planners.Count > 0 ? planners[w] : null;
            tasks[w] = Task.Factory.StartNew(async () =>
            {
                var renderer = new SimRenderer(render);
                var frame = new Frame(render.Width, render.Height);
                int index;
                while (!cancel.IsCancellationRequested && (index = Interlocked.Increment(ref next)) < a.Episodes)
                {
                    try
                    {
                        var lost = await RecordEpisodeAsync(a, outDir, index, renderer, frame, planner, progress, cancel.Token).ConfigureAwait(false);
                        Interlocked.Add(ref dropped, lost);
                        progress.EpisodeDone();
                    }
                    catch (Exception e) when (e is EpisodeRecordingException or IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException
                                                  or ArgumentException or InvalidOperationException or WorldModelException or OrtException)
                    {
                        lock (failures) failures.Add($"episode {index}: {e.Message.ReplaceLineEndings(" ")}");
                        await cancel.CancelAsync().ConfigureAwait(false);
                    }
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        }
        using (var ticker = new PeriodicTimer(TimeSpan.FromMilliseconds(500)))
        {
            var all = Task.WhenAll(tasks);
            while (!all.IsCompleted)
            {
                await Task.WhenAny(all, ticker.WaitForNextTickAsync(CancellationToken.None).AsTask()).ConfigureAwait(false);
                progress.Draw(final: false);
            }
            await all.ConfigureAwait(false);
        }
        progress.Draw(final: true);
        clock.Stop();

        var done = progress.Episodes;
        var frames = progress.Frames;
        var rate = frames / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        if (failures.Count > 0)
        {
            stderr.WriteLine($"robotctl collect: recording failed after {done} of {a.Episodes} episodes: {failures[0]}");
            return ExitCodes.Failed;
        }
        if (ct.IsCancellationRequested)
        {
            stderr.WriteLine($"robotctl collect: cancelled after {done} of {a.Episodes} episodes (the one in progress was completed as aborted)");
            return ExitCodes.Failed;
        }
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"robotctl collect: {done} episodes x {a.Steps} steps ({frames} frames of {render.Width}x{render.Height}), policy {a.Policy}, " +
            $"{a.TaskScenes} scenes, seed {a.Seed}, {workerCount} worker(s): {clock.Elapsed.TotalSeconds:F1} s, {rate:F0} frames/s, " +
            $"{dropped} records dropped -> {outDir}"));
        if (dropped > 0)
        {
            stderr.WriteLine($"robotctl collect: the recorder dropped {dropped} record(s); the affected episodes have gap events");
            return ExitCodes.Failed;
        }
        return 0;
    }

    /// <summary>File stem of episode <paramref name="index"/>: sorts by index, names the policy and seed.</summary>
    internal static string EpisodeId(Arguments a, int index) =>
        string.Create(CultureInfo.InvariantCulture, $"collect-{a.Policy}-s{a.Seed}-e{index:D6}");

    /// <summary>The start scene of episode <paramref name="index"/>: effector at the task height, block placed by the chosen distribution.</summary>
    internal static SimSceneOptions StartScene(Arguments a, int index) => a.TaskScenes switch
    {
        "reach" or "push" => SimTask.Get(a.TaskScenes).Sample(a.Seed, index).Scene,
        _ => SimSceneOptions.Default with { Seed = SeedMix.Of(SceneSeedTag, a.Seed, index), EeZ = SimTask.EffectorHeight },
    };

    private static string PrepareOutput(Arguments a)
    {
        var dir = Path.GetFullPath(a.Out);
        OutputPaths.RequireWritableDirectory("--out", a.Out);
        for (var i = 0; i < a.Episodes; i++)
        {
            var path = Path.Combine(dir, EpisodeId(a, i) + ".sqlite");
            if (File.Exists(path))
                throw new IOException($"--out {a.Out}: {Path.GetFileName(path)} already exists (same policy and seed collected before); use another --out or --seed");
        }
        return dir;
    }

    private static async Task<long> RecordEpisodeAsync(Arguments a, string outDir, int index, SimRenderer renderer, Frame frame,
        PlannerCollectPolicy? planner, Progress progress, CancellationToken ct)
    {
        var scene = StartScene(a, index);
        var cell = new SimWorkcell(scene);
        var policySeed = SeedMix.Of(PolicySeedTag, a.Seed, index);
        var policy = planner is null ? ExplorationPolicy.Create(a.Policy, policySeed, scene) : null;
        Frame? goalFrame = null;
        if (planner is not null)
        {
            // The task episode's goal, through the same renderer and view as the frames (eval renders its goals so).
            var episode = SimTask.Get(a.TaskScenes).Sample(a.Seed, index);
            goalFrame = new Frame(frame.Width, frame.Height);
            renderer.Render(episode.Scene, episode.Goal, goalFrame);
            planner.BeginEpisode(goalFrame, policySeed);
        }
        var options = new EpisodeRecorderOptions();
        var recorder = EpisodeRecorder.Create(outDir, new EpisodeMetadata
        {
            Source = RuntimeOptions.Sim,
            Seed = a.Seed,
            ConfigurationJson = Configuration(a, index, scene, renderer.Options, planner?.ModelDirectory),
        }, new VisionFrameEncoder("png", 90), options, EpisodeId(a, index));
        recorder.Reserve(frame.Width, frame.Height, []);
        if (goalFrame is not null) recorder.RecordGoalImage(0, 0, goalFrame);
        var completed = false;
        try
        {
            var sw = new Stopwatch();
            for (var step = 0; step <= a.Steps; step++)
            {
                if (ct.IsCancellationRequested) break;
                // Back-pressure: the writer (PNG + SQLite) is slower than stepping; wait rather than let the
                // recorder drop a frame (a full frame pool or queue would become a gap).
                while (recorder.FramesInFlight >= options.MaxFramesInFlight - 2 || recorder.PendingRecords >= options.QueueCapacity - 64)
                {
                    if (recorder.Fault is not null) break;
                    await Task.Delay(1, CancellationToken.None).ConfigureAwait(false);
                }
                sw.Restart();
                renderer.Render(cell, frame);
                frame.Sequence = step;
                frame.CaptureTicks = MonotonicClock.Now;
                var captureMs = sw.Elapsed.TotalMilliseconds;
                var s = cell.Snapshot();
                // States before the frame: the HDF5 export pairs a frame with the latest arm state at or before it.
                recorder.RecordArmState(step, cell.CurrentState);
                recorder.RecordSimState(step, s.EeX, s.EeY, s.EeZ, s.BlockX, s.BlockY, s.BlockYaw);
                recorder.RecordFrame(step, frame);
                if (step == a.Steps) break; // the final frame and state, after the last command
                sw.Restart();
                var command = policy?.Next(s) ?? planner!.Next(frame);
                var planMs = sw.Elapsed.TotalMilliseconds;
                sw.Restart();
                cell.Apply(command);
                var sendMs = sw.Elapsed.TotalMilliseconds;
                recorder.RecordCommand(step, command, command);
                recorder.RecordTimings(step, new StepTimings(captureMs, 0, 0, planMs, sendMs, 0, captureMs + planMs + sendMs));
                progress.FrameDone();
            }
            progress.FrameDone();
            var lost = recorder.DroppedRecords;
            await recorder.CompleteAsync(success: null, outcome: ct.IsCancellationRequested
                ? "cancelled"
                : string.Create(CultureInfo.InvariantCulture, $"exploration: {a.Policy}, {a.Steps} steps")).ConfigureAwait(false);
            completed = true;
            return Math.Max(lost, recorder.DroppedRecords);
        }
        finally
        {
            if (!completed) await recorder.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static string Configuration(Arguments a, int index, SimSceneOptions scene, SimRenderOptions render, string? model)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartObject("Collect");
            w.WriteString("Policy", a.Policy);
            w.WriteNumber("Seed", a.Seed);
            w.WriteNumber("Episode", index);
            w.WriteNumber("Steps", a.Steps);
            w.WriteString("TaskScenes", a.TaskScenes);
            if (model is not null)
            {
                w.WriteNumber("Noise", a.Noise);
                w.WriteString("Model", model);
            }
            w.WriteEndObject();
            w.WriteStartObject("Sim");
            w.WriteString("Scene", scene.ToSceneString());
            w.WriteNumber("Width", render.Width);
            w.WriteNumber("Height", render.Height);
            w.WriteString("View", render.Projection.ToString());
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// Progress on stderr: a bar redrawn in place on a terminal; when stderr is redirected (logs, tests), a plain line
    /// every 10 s at most, so logs stay short.
    /// </summary>
    private sealed class Progress(int episodes, int framesPerEpisode, TextWriter stderr)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly bool _interactive = ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected;
        private long _frames, _episodes;
        private double _lastLine = double.NegativeInfinity;

        public long Frames => Interlocked.Read(ref _frames);
        public long Episodes => Interlocked.Read(ref _episodes);

        public void FrameDone() => Interlocked.Increment(ref _frames);

        public void EpisodeDone() => Interlocked.Increment(ref _episodes);

        public void Draw(bool final)
        {
            var t = _clock.Elapsed.TotalSeconds;
            if (!_interactive && !final && t - _lastLine < 10) return;
            _lastLine = t;
            var done = Episodes;
            var frames = Frames;
            var rate = frames / Math.Max(t, 1e-9);
            var remaining = (double)episodes * framesPerEpisode - frames;
            var eta = rate > 0 ? TimeSpan.FromSeconds(remaining / rate) : TimeSpan.Zero;
            const int width = 30;
            var filled = (int)(width * done / Math.Max(episodes, 1));
            var line = string.Create(CultureInfo.InvariantCulture,
                $"collect [{new string('#', filled)}{new string('-', width - filled)}] {done}/{episodes} episodes  {rate:F0} frames/s  ETA {eta:hh\\:mm\\:ss}");
            if (_interactive)
            {
                stderr.Write($"\r{line}");
                if (final) stderr.WriteLine();
            }
            else
            {
                stderr.WriteLine(line);
            }
        }
    }
}
