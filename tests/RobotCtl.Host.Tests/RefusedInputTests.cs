using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using static RobotCtl.Host.Tests.BadInputTests;

namespace RobotCtl.Host.Tests;

/// <summary>
/// Inputs that used to be accepted silently, clamped, or refused with a misleading line, through the real CLI: an
/// output that cannot be written names its option, sizes have upper bounds, contradictions are reported, a missing or
/// broken settings or calibration file is refused, model files stay in their folder, and a dashboard address that
/// cannot be served is refused before anything is recorded. Each exits 2 with one line (<see cref="BadInputTests.AssertBadInput"/>).
/// </summary>
public class RefusedInputTests(RefusedInputTests.GoalImage goal) : IClassFixture<RefusedInputTests.GoalImage>
{
    // /proc takes no new files, even for root: an unwritable place on any Linux machine the suite runs on.
    private const string Unwritable = "/proc/robotctl-refused";

    // ---- outputs that cannot be written -------------------------------------------------------------------------

    [Fact]
    public void Run_names_record_when_it_cannot_write_there()
    {
        using var dir = new TempDir();
        AssertBadInput(Cli("run", "--sim", "--goal", TestScenes.GoalImage(dir.Path, "seed=1"), "--record", Unwritable, "--max-steps", "1"),
            $"--record {Unwritable}: cannot write there");
    }

    [Fact]
    public void Snapshot_names_out_when_it_cannot_write_there() =>
        AssertBadInput(Cli("snapshot", "--camera", "sim", "--out", $"{Unwritable}.png"), $"--out {Unwritable}.png: cannot write there");

    [Fact]
    public void Calibrate_names_out_when_it_cannot_write_there()
    {
        using var dir = new TempDir();
        AssertBadInput(Cli("calibrate", "camera", "--images", dir.Path, "--board", "9x6", "--square-mm", "25", "--out", $"{Unwritable}/camera.json"),
            $"--out {Unwritable}/camera.json: cannot write there");
    }

    [Fact]
    public void Model_import_names_out_when_it_cannot_write_there_before_converting() =>
        AssertBadInput(Cli("model", "import", "lewm", Path.Combine(TestHome.Root, "tests", "fixtures", "lewm-checkpoint"), "--out", Unwritable),
            $"--out {Unwritable}: cannot write there");

    [Fact]
    public void Demo_names_record_when_it_cannot_write_there() =>
        AssertBadInput(Cli("demo", "--record", Unwritable), $"--record {Unwritable}: cannot write there");

    // ---- sizes ------------------------------------------------------------------------------------------------------

    [Fact]
    public void Plan_samples_have_an_upper_bound_that_says_what_it_would_take() =>
        AssertBadInput(Cli("plan", "--model", TestHome.SmallModel, "--observation", Goal(), "--goal", Goal(), "--samples", "2147483647"),
            "--samples: expected at most 65536", "GB", "found 2147483647");

    [Fact]
    public void Planner_samples_set_in_configuration_have_the_same_bound() =>
        AssertBadInput(Cli("run", "--sim", "--goal", Goal(), "--no-record", "--set", "Planner:Samples=100000"),
            "Planner:Samples: expected at most 65536", "found 100000");

    [Fact]
    public void Plan_iterations_and_horizon_have_upper_bounds()
    {
        AssertBadInput(Cli("plan", "--model", TestHome.SmallModel, "--observation", Goal(), "--goal", Goal(), "--iterations", "2000000000"),
            "--iterations: expected at most 10000", "--deadline-ms");
        AssertBadInput(Cli("plan", "--model", TestHome.SmallModel, "--observation", Goal(), "--goal", Goal(), "--horizon", "100000"),
            "--horizon: expected at most 256");
    }

    [Fact]
    public void Snapshot_sizes_and_sim_arm_ports_name_their_option()
    {
        AssertBadInput(Cli("snapshot", "--camera", "sim", "--out", "/tmp/robotctl-never.png", "--width", "100000"), "--width: expected 1..8192 pixels");
        AssertBadInput(Cli("snapshot", "--camera", "sim", "--out", "/tmp/robotctl-never.png", "--fps", "1e308"), "--fps: expected a rate in (0, 1000]");
        AssertBadInput(Cli("sim-arm", "--mqtt", "127.0.0.1:99999", "--robot-id", "x"), "--mqtt: expected host:port with a port 1-65535");
    }

    [Fact]
    public void Collect_counts_have_upper_bounds() =>
        AssertBadInput(Cli("collect", "--episodes", "2000000", "--steps", "5", "--policy", "push", "--out", "/tmp/robotctl-never"),
            "--episodes: expected at most 999999");

    // ---- values that were changed behind the user's back ------------------------------------------------------

    [Fact]
    public void Execute_blocks_beyond_the_horizon_are_refused_not_clamped() =>
        AssertBadInput(Cli("run", "--sim", "--goal", Goal(), "--no-record", "--max-steps", "1", "--set", "Runtime:ExecuteBlocks=99"),
            "Runtime:ExecuteBlocks: expected 0..", "found 99");

    [Fact]
    public void An_empty_cost_shape_is_refused_not_read_as_the_default() =>
        AssertBadInput(Cli("run", "--sim", "--goal", Goal(), "--no-record", "--cost-shape", ""), "--cost-shape: expected last, sum", "empty");

    [Fact]
    public void Sim_arm_refuses_a_seed_beside_a_scene_that_has_its_own() =>
        AssertBadInput(Cli("sim-arm", "--mqtt", "embedded", "--seed", "3", "--scene", "seed=4"), "--seed and --scene: give one");

    // ---- contradictions -----------------------------------------------------------------------------------------

    [Fact]
    public void Run_refuses_sim_beside_another_camera()
    {
        using var dir = new TempDir();
        AssertBadInput(Cli("run", "--sim", "--camera", dir.Path, "--goal", Goal()), "--sim and --camera", "--camera sim --arm sim");
    }

    [Fact]
    public void Sim_arm_refuses_a_directory_or_a_regular_file_as_its_tty()
    {
        using var dir = new TempDir();
        AssertBadInput(Cli("sim-arm", "--serial", dir.Path), $"--serial {dir.Path}: is a directory, expected a tty");
        var file = dir.File("not-a-tty");
        File.WriteAllText(file, "");
        AssertBadInput(Cli("sim-arm", "--serial", file), $"--serial {file}: is a regular file, expected a tty");
    }

    [Fact]
    public void Estop_refuses_a_socket_that_is_not_a_control_socket_and_a_reason_that_is_not_one_line()
    {
        using var dir = new TempDir();
        var file = dir.File("goal.png");
        File.WriteAllText(file, "");
        AssertBadInput(Cli("estop", "--socket", file), $"--socket {file}: expected a runtime's control socket");
        AssertBadInput(Cli("estop", "--reason", "arm hit\nthe fixture"), "--reason: expected one line");
        AssertBadInput(Cli("estop", "--reason", new string('x', 501)), "--reason: expected one line of at most 500 characters");
    }

    // ---- silent fallbacks and files outside their folder ------------------------------------------------------

    [Fact]
    public void A_home_without_settings_is_refused_not_run_on_built_in_defaults()
    {
        using var home = new TempDir();
        var env = new Dictionary<string, string> { ["ROBOTCTL_HOME"] = home.Path };
        var settings = Path.Combine(home.Path, "appsettings.json");
        AssertBadInput(CliIn(env, "run", "--sim", "--goal", Goal(), "--no-record"), $"{settings}: settings file not found", "ROBOTCTL_HOME");
        Directory.CreateDirectory(settings);
        AssertBadInput(CliIn(env, "run", "--sim", "--goal", Goal(), "--no-record"), $"{settings}: is a directory");
    }

    [Fact]
    public void A_calibration_whose_camera_json_is_not_json_is_refused_even_with_the_sim_camera()
    {
        using var dir = new TempDir();
        foreach (var file in Directory.GetFiles(Path.Combine(TestHome.Root, "calibration", "default")))
            File.Copy(file, dir.File(Path.GetFileName(file)));
        File.WriteAllText(dir.File("camera.json"), "fx = 500");
        AssertBadInput(Cli("run", "--sim", "--goal", Goal(), "--no-record", "--calibration", dir.Path),
            $"camera calibration '{dir.File("camera.json")}': not a valid calibration file");
    }

    [Theory]
    [InlineData("encoder", "../../../../etc/passwd")]
    [InlineData("predictor", "/etc/passwd")]
    public void Model_files_outside_the_model_directory_are_refused(string graph, string path)
    {
        using var dir = new TempDir();
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(TestHome.SmallModel, "model.json")))!;
        manifest[graph]!["file"] = path;
        File.WriteAllText(dir.File("model.json"), manifest.ToJsonString());
        var r = Cli("model", "check", dir.Path);
        Assert.NotEqual(0, r.Code);
        Assert.Contains($"{graph}.file must name a file inside the model directory", r.Out + r.Err);
        Assert.Contains(path, r.Out + r.Err);
    }

    // ---- the dashboard's address ----------------------------------------------------------------------------------

    [Fact]
    public void Dashboard_refuses_an_address_that_is_not_this_machines() =>
        AssertBadInput(Cli("dashboard", "--listen", "10.255.255.1:0", "--token", "a-long-enough-token"),
            "--listen 10.255.255.1:0: cannot listen there (not an address of this machine)");

    [Fact]
    public void Run_with_a_dashboard_on_a_busy_port_is_refused_before_anything_is_recorded()
    {
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var port = ((IPEndPoint)busy.LocalEndpoint).Port;
        using var dir = new TempDir();
        var episodes = dir.File("episodes");
        AssertBadInput(Cli("run", "--sim", "--goal", Goal(), "--record", episodes, "--max-steps", "1", "--dashboard", "--listen", $"127.0.0.1:{port}"),
            $"--listen 127.0.0.1:{port}: cannot listen there (the port is in use");
        Assert.False(Directory.Exists(episodes) && Directory.EnumerateFileSystemEntries(episodes).Any(), "an episode was recorded before the refusal");
    }

    private string Goal() => goal.Path;

    /// <summary>One sim goal image for the class, removed after it.</summary>
    public sealed class GoalImage : IDisposable
    {
        private readonly TempDir _dir = new();

        public GoalImage() => Path = TestScenes.GoalImage(_dir.Path, "seed=2");

        public string Path { get; }

        public void Dispose() => _dir.Dispose();
    }
}
