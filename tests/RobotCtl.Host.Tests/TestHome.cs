using RobotCtl.Core.Vision;
using RobotCtl.Host.Commands;
using RobotCtl.Runtime;
using RobotCtl.Runtime.Composition;
using RobotCtl.Sim;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Host.Tests;

/// <summary>Paths and fixtures shared by the host's integration tests.</summary>
internal static class TestHome
{
    public static string Root => RobotCtlHome.Path;

    public static string SmallModel => Path.Combine(Root, "models", "examples", "lewm-small");

    public static string VjepaModel => Path.Combine(Root, "models", "examples", "vjepa2ac-small");

    /// <summary>
    /// A small recorded sim run: the random-weight LeWM model (or <paramref name="model"/>), few samples, no deadline,
    /// so replay must reproduce every plan bit for bit.
    /// </summary>
    public static RunRequest SmallRun(string goal, string episodes, int steps = 4, string? model = null) => new()
    {
        Goals = [goal],
        Sim = true,
        Model = model ?? SmallModel,
        Record = episodes,
        MaxSteps = steps,
        Samples = 48,
        Iterations = 3,
        Seed = 11,
        SimScene = "seed=7,ee=-0.12:-0.12:0.03",
        Quiet = true,
        // No deadline: every iteration runs, so replay must reproduce every plan bit for bit. One block per plan, as the
        // recorded fixtures (tests/fixtures/context-frames-1) were made (the example models' own receding is 5).
        Sets = ["Planner:DeadlineMs=", "Runtime:CommandRateHz=50", "Runtime:SuccessThreshold=0", "Runtime:ExecuteBlocks=1"],
    };

    /// <summary>An arm profile (arm.json in <paramref name="dir"/>) for a serial link to <paramref name="device"/>.</summary>
    public static string SerialProfile(TempDir dir, string device, int baud = 1_000_000)
    {
        var profile = dir.File("arm.json");
        File.WriteAllText(profile, $$"""{ "name": "test-serial", "transport": "serial", "serial": { "device": "{{device}}", "baud": {{baud}} } }""");
        return profile;
    }

    /// <summary>An arm profile (arm.json in <paramref name="dir"/>) for an MQTT link at QoS 1 through the broker on <paramref name="port"/>.</summary>
    public static string MqttProfile(TempDir dir, int port, string robotId)
    {
        var profile = dir.File("arm.json");
        File.WriteAllText(profile, $$"""{ "name": "test-mqtt", "transport": "mqtt", "mqtt": { "host": "127.0.0.1", "port": {{port}}, "robotId": "{{robotId}}", "qos": 1 } }""");
        return profile;
    }

    /// <summary>Runs <paramref name="loop"/> to its end on a thread of its own, as the host does, the streamer running around it.</summary>
    public static async Task<RunOutcome> RunToEndAsync(RuntimeComponents components, ControlLoop loop)
    {
        components.Streamer.Start();
        try
        {
            return await Task.Factory.StartNew(() => loop.Run(CancellationToken.None), TaskCreationOptions.LongRunning);
        }
        finally
        {
            components.Streamer.Stop();
        }
    }

    /// <summary>A temporary directory removed on dispose.</summary>
    public sealed class TempDir : IDisposable
    {
        public TempDir() => Directory.CreateDirectory(Path);

        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "robotctl-test-" + Guid.NewGuid().ToString("N")[..8]);

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Renders a sim scene and saves it as a PNG goal image.</summary>
    public static string GoalImage(string directory, string scene, int size = 224)
    {
        var frame = new Frame(size, size);
        new SimRenderer(new SimRenderOptions { Width = size, Height = size }).Render(new SimWorkcell(SimSceneOptions.Parse(scene)), frame);
        var path = System.IO.Path.Combine(directory, "goal.png");
        ImageIo.SavePng(path, frame);
        return path;
    }
}
