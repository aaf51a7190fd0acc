using System.Diagnostics;
using System.Text;
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

    /// <summary>
    /// <see cref="SmallRun"/> as `robotctl run` arguments, for a run in a child process that goes on until it is stopped:
    /// sim camera and arm (or <paramref name="arm"/>: camera sim, unlinked), its control socket in <paramref name="control"/>.
    /// </summary>
    public static string[] SmallRunArgs(string goal, string episodes, string control, string? arm = null) =>
    [
        "run", .. arm is null ? new[] { "--sim" } : new[] { "--camera", "sim", "--arm", arm, "--allow-unlinked-camera" },
        "--model", SmallModel, "--goal", goal, "--record", episodes, "--max-steps", "100000", "--samples", "48", "--iterations", "3",
        "--seed", "11", "--sim-scene", "seed=7,ee=-0.12:-0.12:0.03", "--quiet",
        "--set", "Planner:DeadlineMs=", "--set", "Runtime:CommandRateHz=50", "--set", "Runtime:SuccessThreshold=0",
        "--set", "Runtime:ExecuteBlocks=1", "--set", $"Safety:ControlDirectory={control}",
    ];

    /// <summary>
    /// Runs <paramref name="file"/> to its end with the test home (ROBOTCTL_HOME, no ROBOTCTL_DEBUG) and
    /// <paramref name="environment"/> on top, and returns its exit code, stdout and stderr; killed (with its children)
    /// and reported with the stderr so far when it outlives <paramref name="timeoutSeconds"/>. Long-running children
    /// that a test acts on: <see cref="CliChild"/>.
    /// </summary>
    public static (int Code, string Out, string Err) RunProcess(string file, IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null, int timeoutSeconds = 120)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["ROBOTCTL_HOME"] = Root;
        psi.Environment.Remove("ROBOTCTL_DEBUG");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) psi.Environment[key] = value;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', psi.ArgumentList)} did not finish in {timeoutSeconds} s; stderr so far:\n{stderr.Result}");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>
    /// The CLI (dotnet robotctl.dll) as a child process that runs on while the test acts on it (killed, stopped, waited
    /// for), its stdout and stderr collected as they come. One-shot commands: <see cref="BadInputTests.Cli"/>.
    /// </summary>
    public sealed class CliChild : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _out = new(), _err = new();

        public CliChild(params string[] args)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add(System.IO.Path.Combine(AppContext.BaseDirectory, "robotctl.dll"));
            foreach (var a in args) psi.ArgumentList.Add(a);
            psi.Environment["ROBOTCTL_HOME"] = Root;
            psi.Environment.Remove("ROBOTCTL_DEBUG");
            _process = Process.Start(psi)!;
            _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_out) _out.AppendLine(e.Data); };
            _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_err) _err.AppendLine(e.Data); };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public int Pid => _process.Id;
        public bool HasExited => _process.HasExited;
        public string Output { get { lock (_out) return _out.ToString(); } }
        public string Errors { get { lock (_err) return _err.ToString(); } }

        /// <summary>Sends a signal by name (STOP, INT, ...) with kill(1).</summary>
        public void Signal(string name)
        {
            using var kill = Process.Start("kill", $"-{name} {_process.Id}");
            kill.WaitForExit();
        }

        /// <summary>SIGKILL, as kill -9: no managed shutdown, nothing closed or removed. Returns the exit code (137).</summary>
        public int Kill9()
        {
            _process.Kill();
            _process.WaitForExit();
            return _process.ExitCode;
        }

        public async Task<int> WaitAsync(TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"robotctl did not exit within {timeout.TotalSeconds} s; stderr: {Errors}");
            }
            _process.WaitForExit(); // the output streams drained
            return _process.ExitCode;
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
            _process.Dispose();
        }
    }

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
}
