using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using RobotCtl.Episodes;
using RobotCtl.Hardware.Tests;
using RobotCtl.Host.Commands;
using RobotCtl.Runtime;

namespace RobotCtl.Host.Tests;

/// <summary>
/// What a `robotctl run` killed with -9 leaves behind, through the real CLI: an episode with its WAL and stale lock,
/// which every read command leaves exactly as it is (only `episodes repair` changes it), and a control socket, which
/// `robotctl estop` and the next run recognise as a dead run's and remove.
/// </summary>
[Trait("Category", "Slow")]
public class KilledRunTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Reading_an_episode_of_a_run_killed_with_9_changes_no_file_and_repair_still_recovers_it()
    {
        using var dir = new TempDir();
        var episodes = dir.File("episodes");
        var goal = TestScenes.GoalImage(dir.Path, "seed=7,ee=0.1:0.08:0.03");
        using (var run = new TestHome.CliChild(TestHome.SmallRunArgs(goal, episodes, dir.File("run"))))
        {
            // A few committed steps (reading a live recording is allowed to touch its -shm: it is not the crashed file yet).
            await TestRig.WaitUntil(() => run.HasExited || Directory.Exists(episodes) && EpisodeCatalog.List(episodes) is [{ Steps: >= 3 }], Generous, "three recorded steps");
            Assert.False(run.HasExited, $"the run ended early: {run.Errors}");
            Assert.Equal(137, run.Kill9());
        }
        var path = Assert.Single(Directory.GetFiles(episodes, "*.sqlite"));
        var id = Path.GetFileNameWithoutExtension(path);
        Assert.True(File.Exists(path + "-wal") && File.Exists(path + ".lock"), "kill -9 leaves the WAL and the lock file");
        var before = Snapshot(episodes);

        var show = BadInputTests.Cli("episodes", "show", id, "--dir", episodes);
        Assert.True(show.Code == 0, show.Err);
        Assert.Contains("outcome   crashed", show.Out);
        var repairLine = Assert.Single(show.Out.Split('\n'), l => l.StartsWith("repair    ", StringComparison.Ordinal));
        Assert.Contains("not closed cleanly: its write-ahead log (-wal) is not folded into the file and its stale lock file", repairLine);
        Assert.Contains($"`robotctl episodes repair {id}` recovers it", repairLine);
        var json = BadInputTests.Cli("episodes", "show", id, "--dir", episodes, "--json");
        Assert.True(json.Code == 0, json.Err);
        var steps = JsonDocument.Parse(json.Out).RootElement.GetProperty("steps").GetInt64();
        var list = BadInputTests.Cli("episodes", "list", "--dir", episodes);
        Assert.True(list.Code == 0, list.Err);
        Assert.Contains("crashed", list.Out);
        Assert.Contains($"not closed cleanly (read as they are, nothing changed; `robotctl episodes repair <id>` recovers each): {id}", list.Out);
        var replay = BadInputTests.Cli("replay", id, "--dir", episodes);
        Assert.True(replay.Code == 0, $"replay exit {replay.Code}: {replay.Err}");
        var mcap = BadInputTests.Cli("episodes", "export", id, "--dir", episodes, "--format", "mcap", "--out", dir.File("out.mcap"));
        Assert.True(mcap.Code == 0, mcap.Err);
        var hdf5 = BadInputTests.Cli("episodes", "export", id, "--dir", episodes, "--format", "hdf5", "--out", dir.File("out.h5"));
        Assert.True(hdf5.Code == 0, hdf5.Err);
        await BrowseInTheDashboard(episodes, id);
        Assert.Equal(before, Snapshot(episodes));

        var repair = BadInputTests.Cli("episodes", "repair", id, "--dir", episodes);
        Assert.True(repair.Code == 0, repair.Err);
        Assert.Contains("crashed (no end marker); folded the write-ahead log into the file, removed the stale lock file", repair.Out);
        Assert.Equal([Path.GetFileName(path)], Directory.GetFiles(episodes).Select(Path.GetFileName));
        var after = BadInputTests.Cli("episodes", "show", id, "--dir", episodes, "--json");
        Assert.Equal(steps, JsonDocument.Parse(after.Out).RootElement.GetProperty("steps").GetInt64());
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(after.Out).RootElement.GetProperty("not_closed_cleanly").ValueKind);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Estop_says_no_run_is_alive_after_a_run_killed_with_9_and_removes_its_socket_and_so_does_the_next_run()
    {
        using var dir = new TempDir();
        var control = dir.File("run");
        var goal = TestScenes.GoalImage(dir.Path, "seed=7,ee=0.1:0.08:0.03");

        var first = await StartAndKill9(goal, dir.File("episodes"), control);
        // The next run removes it as it starts, and estop reaches that run.
        using (var run = new TestHome.CliChild(TestHome.SmallRunArgs(goal, dir.File("episodes"), control)))
        {
            var socket = await SocketOf(run, control);
            Assert.False(File.Exists(first), "the next run removes the socket a killed run left");
            var estop = BadInputTests.Cli("estop", "--socket", control);
            Assert.True(estop.Code == 0, $"estop exit {estop.Code}: {estop.Err}");
            Assert.Contains("latched", estop.Out);
            Assert.Equal(137, run.Kill9());
            Assert.True(File.Exists(socket), "kill -9 leaves the socket");
        }

        var stale = BadInputTests.Cli("estop", "--socket", control);
        Assert.Equal(EStopCommand.NoRuntime, stale.Code);
        Assert.Equal(1, stale.Code);
        Assert.Equal("", stale.Out);
        var line = Assert.Single(stale.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches($@"^robotctl estop: no robotctl run is alive, nothing was stopped: removed the control socket\(s\) that dead runs left in {Regex.Escape(control)} \(robotctl-\d+-1\.sock: pid \d+ is gone\)$", line);
        Assert.Empty(ControlEndpoint.FindSockets(control));

        var none = BadInputTests.Cli("estop", "--socket", control);
        Assert.Equal(1, none.Code);
        Assert.Equal($"robotctl estop: no robotctl run is alive, nothing was stopped: no control socket in {control}", none.Err.Trim());
    }

    /// <summary>Starts a run, waits for its control socket, kills it with -9; returns the socket it left.</summary>
    private static async Task<string> StartAndKill9(string goal, string episodes, string control)
    {
        using var run = new TestHome.CliChild(TestHome.SmallRunArgs(goal, episodes, control));
        var socket = await SocketOf(run, control);
        Assert.Equal(137, run.Kill9());
        Assert.True(File.Exists(socket), "kill -9 leaves the socket");
        return socket;
    }

    private static async Task<string> SocketOf(TestHome.CliChild run, string control)
    {
        var prefix = $"{ControlEndpoint.SocketPrefix}{run.Pid}-";
        string? Find() => ControlEndpoint.FindSockets(control).FirstOrDefault(s => Path.GetFileName(s).StartsWith(prefix, StringComparison.Ordinal));
        await TestRig.WaitUntil(() => run.HasExited || Find() is not null, Generous, "the run's control socket");
        Assert.False(run.HasExited, $"the run ended early: {run.Errors}");
        return Find()!;
    }

    /// <summary>The episode browser's reads: the list, one episode, a frame and the replay verdict, from `robotctl dashboard`.</summary>
    private static async Task BrowseInTheDashboard(string episodes, string id)
    {
        using var dashboard = new TestHome.CliChild("dashboard", "--dir", episodes, "--listen", "127.0.0.1:0");
        await TestRig.WaitUntil(() => dashboard.HasExited || dashboard.Output.Contains("dashboard: "), Generous, "the dashboard's address");
        Assert.False(dashboard.HasExited, $"the dashboard ended: {dashboard.Errors}");
        var url = Regex.Match(dashboard.Output, @"dashboard: (http://\S+?)/?\s").Groups[1].Value;
        using var http = new HttpClient { BaseAddress = new Uri(url + "/"), Timeout = Generous };
        foreach (var what in new[] { "api/episodes", $"api/episodes/{id}", $"api/episodes/{id}/frames/0", $"api/episodes/{id}/replay" })
        {
            using var response = await http.GetAsync(what);
            Assert.True(response.IsSuccessStatusCode, $"GET {what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        dashboard.Signal("INT");
        await dashboard.WaitAsync(Generous); // its readers are closed: the snapshot after it is final
    }

    /// <summary>Every file in the folder: name, size, modification time and SHA-256.</summary>
    private static string Snapshot(string directory) => string.Join("\n", Directory.GetFiles(directory).Order(StringComparer.Ordinal).Select(f =>
    {
        var info = new FileInfo(f);
        return $"{info.Name} {info.Length} {info.LastWriteTimeUtc.Ticks} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))}";
    }));
}
