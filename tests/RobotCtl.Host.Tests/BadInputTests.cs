
namespace RobotCtl.Host.Tests;

/// <summary>
/// Bad input through the real CLI (dotnet robotctl.dll): every case exits 2 with one line on stderr that names the
/// option or file, prints no stack trace, and leaves no partial file behind.
/// </summary>
public class BadInputTests
{
    internal static (int Code, string Out, string Err) Cli(params string[] args) => CliIn(null, args);

    /// <summary>The CLI with <paramref name="environment"/> on top of the test home's (e.g. another ROBOTCTL_HOME).</summary>
    internal static (int Code, string Out, string Err) CliIn(IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        TestHome.RunProcess("dotnet", [Path.Combine(AppContext.BaseDirectory, "robotctl.dll"), .. args], environment);

    /// <summary>
    /// Exit 2, exactly one error line on stderr containing every fragment, no trace, nothing on stdout. Other stderr
    /// lines may only be the runtime's info log lines (an error found after the model is loaded comes after them).
    /// </summary>
    internal static string AssertBadInput((int Code, string Out, string Err) r, params string[] fragments)
    {
        var lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(r.Code == 2, $"exit {r.Code}, expected 2; stderr: {r.Err}; stdout: {r.Out}");
        var line = Assert.Single(lines, l => l.StartsWith("robotctl", StringComparison.Ordinal));
        Assert.All(lines.Where(l => l != line), l => Assert.Matches(@"^\d\d:\d\d:\d\d\.\d{3} (info|dbug): ", l));
        foreach (var f in fragments) Assert.Contains(f, line);
        Assert.DoesNotContain("Exception", r.Err);
        Assert.DoesNotContain("Traceback", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
        Assert.Equal("", r.Out.Trim());
        return line;
    }

    // ---- accepted silently before -----------------------------------------------------------------------------------

    [Fact]
    public void Replay_refuses_an_inverted_step_range() =>
        AssertBadInput(Cli("replay", "no-such-episode", "--from", "5", "--to", "2"), "--from 5", "--to 2");

    [Fact]
    public void Replay_refuses_a_negative_first_step() =>
        AssertBadInput(Cli("replay", "no-such-episode", "--from=-5"), "--from", "-5");

    [Theory]
    [InlineData("NaN")]
    [InlineData("-1")]
    [InlineData("Infinity")]
    public void Replay_refuses_a_tolerance_that_is_not_a_finite_value_at_least_0(string tolerance) =>
        AssertBadInput(Cli("replay", "no-such-episode", "--tolerance", tolerance), "--tolerance", tolerance);

    [Fact]
    public void Episodes_list_refuses_a_directory_that_does_not_exist() =>
        AssertBadInput(Cli("episodes", "list", "--dir", "/nonexistent/robotctl-episodes"), "--dir", "/nonexistent/robotctl-episodes");

    [Fact]
    public void Zero_planner_iterations_are_refused_naming_the_key()
    {
        using var dir = new TempDir();
        var goal = TestScenes.GoalImage(dir.Path, "seed=1");
        AssertBadInput(Cli("run", "--sim", "--no-record", "--goal", goal, "--set", "Planner:Iterations=0"), "Planner:Iterations", "0");
    }

    [Fact]
    public void Run_refuses_zero_iterations_given_as_an_option() =>
        AssertBadInput(Cli("run", "--goal", "x.png", "--iterations", "0"), "--iterations", "0");

    [Fact]
    public void A_top_k_larger_than_the_samples_is_refused_naming_both()
    {
        using var dir = new TempDir();
        var goal = TestScenes.GoalImage(dir.Path, "seed=1");
        AssertBadInput(Cli("run", "--sim", "--no-record", "--max-steps", "1", "--goal", goal, "--set", "Planner:TopK=1000"),
            "Planner:TopK", "Planner:Samples", "1000");
    }

    [Fact]
    public void Plan_refuses_a_top_k_larger_than_the_samples_naming_both()
    {
        using var dir = new TempDir();
        var image = TestScenes.GoalImage(dir.Path, "seed=1");
        AssertBadInput(Cli("plan", "--model", TestHome.SmallModel, "--observation", image, "--goal", image, "--samples", "50", "--topk", "60"),
            "--topk 60", "--samples (50)");
    }

    // ---- misleading before ------------------------------------------------------------------------------------------

    [Fact]
    public void An_unknown_option_after_goal_is_called_an_unknown_option()
    {
        using var dir = new TempDir();
        var goal = TestScenes.GoalImage(dir.Path, "seed=1");
        var line = AssertBadInput(Cli("run", $"--goal={goal}", "--bogus"), "unknown option '--bogus'");
        Assert.DoesNotContain("image", line.Split("(after")[0]);
    }

    [Fact]
    public void An_unknown_option_anywhere_is_called_an_unknown_option() =>
        AssertBadInput(Cli("episodes", "list", "--bogus"), "unknown option '--bogus'");

    [Fact]
    public void A_directory_given_as_a_goal_image_says_it_is_a_directory()
    {
        using var dir = new TempDir();
        AssertBadInput(Cli("run", "--goal", dir.Path), "--goal", dir.Path, "is a directory");
    }

    [Fact]
    public void A_directory_given_as_the_observation_says_it_is_a_directory()
    {
        using var dir = new TempDir();
        var image = TestScenes.GoalImage(dir.Path, "seed=1");
        AssertBadInput(Cli("plan", "--model", TestHome.SmallModel, "--observation", dir.Path, "--goal", image), "--observation", "is a directory");
    }

    [Fact]
    public void Calibrate_refuses_a_directory_as_output_before_calibrating()
    {
        using var dir = new TempDir();
        AssertBadInput(Cli("calibrate", "camera", "--images", dir.Path, "--board", "9x6", "--square-mm", "25", "--out", dir.Path),
            "--out", dir.Path, "is a directory");
    }

    [Fact]
    public void Calibrate_names_the_images_option_when_its_directory_is_missing() =>
        AssertBadInput(Cli("calibrate", "camera", "--images", "/nonexistent/boards", "--board", "9x6", "--square-mm", "25", "--out", "/tmp/c.json"),
            "--images", "/nonexistent/boards");

    [Fact]
    public void Calibrate_names_the_square_size_option() =>
        AssertBadInput(Cli("calibrate", "camera", "--images", "/tmp", "--board", "9x6", "--square-mm", "-25", "--out", "/tmp/c.json"),
            "--square-mm", "-25");

    [Theory]
    [InlineData("-3")]
    [InlineData("0")]
    public void A_step_budget_below_1_names_the_option(string steps) =>
        AssertBadInput(Cli("run", "--goal", "x.png", "--max-steps", steps), "--max-steps", steps);

    [Fact]
    public void A_value_of_the_wrong_type_names_the_option_and_the_value() =>
        AssertBadInput(Cli("collect", "--episodes", "many", "--steps", "3", "--policy", "push", "--out", "/tmp/x"),
            "--episodes", "expected an integer", "'many'");

    [Fact]
    public void A_value_outside_the_choices_lists_them() =>
        AssertBadInput(Cli("episodes", "export", "x", "--format", "xyz", "--out", "/tmp/x"), "--format", "mcap, hdf5", "'xyz'");

    [Fact]
    public void Replay_refuses_confirm_without_an_arm() =>
        AssertBadInput(Cli("replay", "no-such-episode", "--confirm"), "--confirm", "only with --to-arm");

    [Fact]
    public void Demo_refuses_record_and_no_record_together() =>
        AssertBadInput(Cli("demo", "--record", "/tmp/robotctl-never", "--no-record"), "--record and --no-record: give one");

    [Fact]
    public void Demo_refuses_an_unknown_task_listing_the_tasks() =>
        AssertBadInput(Cli("demo", "--task", "stack", "--no-record"), "--task", "reach, push", "'stack'");

    [Fact]
    public void The_push_demo_refuses_a_goal_scene_without_a_placed_block() =>
        AssertBadInput(Cli("demo", "--task", "push", "--no-record", "--goal-scene", "seed=3,ee=0:0:0.02"),
            "--goal-scene", "block placed explicitly");

    [Fact]
    public void Replay_without_an_episode_names_the_argument() =>
        AssertBadInput(Cli("replay"), "<episode> is required");

    [Fact]
    public void Sim_arm_refuses_a_qos_its_help_does_not_offer() =>
        AssertBadInput(Cli("sim-arm", "--mqtt", "embedded", "--qos", "2"), "--qos", "expected one of 0, 1", "'2'");

    [Fact]
    public void Parse_errors_exit_2_in_one_line_without_the_help() =>
        AssertBadInput(Cli("plan"), "--model is required");

    [Fact]
    public void Collect_refuses_a_file_as_its_output_directory()
    {
        using var dir = new TempDir();
        var file = dir.File("not-a-dir");
        File.WriteAllText(file, "x");
        AssertBadInput(Cli("collect", "--episodes", "1", "--steps", "2", "--policy", "push", "--out", file), "--out", "is a file");
    }

    [Fact]
    public void Model_check_of_a_missing_directory_is_bad_input() =>
        AssertBadInput(Cli("model", "check", "/nonexistent/model"), "/nonexistent/model", "not found");

    [Theory]
    [InlineData("hdf5")]
    [InlineData("mcap")]
    public void Export_to_an_existing_directory_is_refused_and_leaves_no_partial_file(string format)
    {
        using var dir = new TempDir();
        var (code, _, err) = Cli("collect", "--sim", "--episodes", "1", "--steps", "2", "--policy", "push", "--out", dir.File("eps"), "--workers", "1");
        Assert.True(code == 0, err);
        var episode = Directory.GetFiles(dir.File("eps"), "*.sqlite").Single();
        var target = dir.File("out");
        Directory.CreateDirectory(target);

        AssertBadInput(Cli("episodes", "export", episode, "--format", format, "--out", target), "--out", target, "is a directory");

        Assert.Empty(Directory.GetFileSystemEntries(target));
        Assert.Equal(new[] { "eps", "out" }, Directory.GetFileSystemEntries(dir.Path).Select(e => Path.GetFileName(e)!).Order().ToArray());
    }

    // ---- notices and logs -------------------------------------------------------------------------------------------

    [Fact]
    public void A_run_on_a_CPU_machine_prints_no_CUDA_notice_and_keeps_log_lines_off_stdout()
    {
        using var dir = new TempDir();
        var goal = TestScenes.GoalImage(dir.Path, "seed=1");

        var (code, stdout, stderr) = Cli("run", "--sim", "--no-record", "--max-steps", "1", "--goal", goal);

        Assert.True(code is 0 or 3, $"exit {code}: {stderr}");
        // The info line still lists the library's providers; what must be gone is the fallback warning.
        Assert.DoesNotContain("running on CPU", stdout + stderr);
        Assert.DoesNotContain("execution provider Auto", stdout + stderr);
        // Log lines ("HH:mm:ss.fff info: ...") go to stderr; stdout keeps the progress table and the summary.
        Assert.DoesNotContain(" info: ", stdout);
        Assert.DoesNotContain(" warn: ", stdout);
        Assert.Contains(" info: ", stderr);
    }
}
