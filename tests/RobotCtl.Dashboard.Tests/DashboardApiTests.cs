using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using RobotCtl.Episodes;
using RobotCtl.Host.Commands;
using RobotCtl.Runtime;

namespace RobotCtl.Dashboard.Tests;

/// <summary>
/// The JSON API against a real Kestrel on an ephemeral loopback port, watching a real sim run. Everything is awaited
/// as an observable condition with generous timeouts; nothing depends on how fast the machine is.
/// </summary>
[Trait("Category", "Slow")]
public class DashboardApiTests
{
    private static async Task<JsonElement> Json(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static HttpRequestMessage Post(string path, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path);
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        return request;
    }

    [Fact]
    public async Task Status_images_and_estop_over_the_api_latch_the_governor_so_the_arm_only_gets_holds_until_release()
    {
        using var dir = new TempDir();
        var episodes = dir.File("episodes");
        await using var run = await LiveRunHarness.StartAsync(TestHome.SmallRun(TestScenes.GoalImage(dir.Path, TestSupport.GoalScene), episodes, steps: 100_000));
        var http = run.Http;

        // Status: the loop's latest cycle, the link, the e-stop and the episode being recorded.
        await TestSupport.WaitUntilAsync(async () => (await Json(http, "/api/status")).GetProperty("step").ValueKind == JsonValueKind.Number, "a first cycle in /api/status");
        var status = await Json(http, "/api/status");
        foreach (var field in new[] { "step", "goal_index", "distance", "plan_ms", "estop", "link", "episode" })
            Assert.True(status.TryGetProperty(field, out _), $"/api/status lacks {field}: {status}");
        Assert.Equal(0, status.GetProperty("goal_index").GetInt32());
        Assert.True(status.GetProperty("distance").GetDouble() >= 0);
        Assert.True(status.GetProperty("plan_ms").GetDouble() > 0);
        Assert.False(status.GetProperty("estop").GetBoolean());
        Assert.Equal("online", status.GetProperty("link").GetString());
        Assert.Equal(run.Components.Recorder!.Id, status.GetProperty("episode").GetString());

        // Images: the camera frame as JPEG, the goal as PNG, encoded on the HTTP side.
        var jpeg = await http.GetByteArrayAsync("/api/camera.jpg");
        Assert.True(jpeg is [0xFF, 0xD8, ..], "camera.jpg is not a JPEG");
        var png = await http.GetByteArrayAsync("/api/goal.png");
        Assert.True(png is [0x89, (byte)'P', (byte)'N', (byte)'G', ..], "goal.png is not a PNG");

        // State changes are POST only and same-origin only; a refused one changes nothing.
        using (var get = await http.GetAsync("/api/estop")) Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        using (var cross = await http.SendAsync(Post("/api/estop", ("Origin", "http://evil.example")))) Assert.Equal(HttpStatusCode.Forbidden, cross.StatusCode);
        using (var site = await http.SendAsync(Post("/api/estop", ("Sec-Fetch-Site", "cross-site")))) Assert.Equal(HttpStatusCode.Forbidden, site.StatusCode);
        using (var rebound = new HttpRequestMessage(HttpMethod.Get, "/api/status"))
        {
            // A DNS-rebinding page reaches 127.0.0.1 under its own name: without a token only loopback names are served.
            rebound.Headers.Host = "evil.example";
            using var response = await http.SendAsync(rebound);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }
        Assert.False(run.Components.Governor.IsEStopped);

        // Take goal snapshot: the current camera frame, saved as a PNG in the goal directory.
        using (var snapshot = await http.SendAsync(Post("/api/goal/snapshot?name=from-camera")))
        {
            Assert.Equal(HttpStatusCode.Created, snapshot.StatusCode);
            var saved = Path.Combine(dir.Path, "goals", "from-camera.png");
            Assert.Equal(saved, JsonDocument.Parse(await snapshot.Content.ReadAsStringAsync()).RootElement.GetProperty("path").GetString());
            Assert.Equal(run.Loop.LastFrame.Width, RobotCtl.Vision.Imaging.ImageIo.Load(saved).Width);
        }

        // Latch from the page's origin: exactly what `robotctl estop` does (the governor, the chunk, the episode event).
        using (var latch = await http.SendAsync(Post("/api/estop", ("Origin", http.BaseAddress!.GetLeftPart(UriPartial.Authority)), ("Sec-Fetch-Site", "same-origin"))))
            Assert.Equal(HttpStatusCode.OK, latch.StatusCode);
        Assert.True(run.Components.Governor.IsEStopped);
        Assert.True((await Json(http, "/api/status")).GetProperty("estop").GetBoolean());
        var ticks = run.Components.Streamer.Ticks;
        await TestSupport.WaitUntil(() => run.Components.Streamer.Ticks >= ticks + 25, "streamer ticks while latched");
        Assert.False(run.Run.IsCompleted, "a latched loop waits for release");
        var stepWhileLatched = run.Loop.Step;

        using (var release = await http.SendAsync(Post("/api/estop/release")))
            Assert.Equal(HttpStatusCode.OK, release.StatusCode);
        Assert.False(run.Components.Governor.IsEStopped);
        await TestSupport.WaitUntil(() => run.Loop.Step > stepWhileLatched + 1 || run.Run.IsCompleted, "the loop to plan again after the release");
        Assert.False((await Json(http, "/api/status")).GetProperty("estop").GetBoolean());

        // Pause: the loop parks and plans nothing (the arm holds on the governor's watchdog) without an e-stop latch.
        using (var pause = await http.SendAsync(Post("/api/pause")))
            Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
        await TestSupport.WaitUntilAsync(async () => (await Json(http, "/api/status")).GetProperty("paused").GetBoolean(), "paused in /api/status");
        await TestSupport.WaitUntil(() => run.Loop.IsParked, "the loop to park");
        var stepWhilePaused = run.Loop.Step;
        var pausedTicks = run.Components.Streamer.Ticks;
        await TestSupport.WaitUntil(() => run.Components.Streamer.Ticks >= pausedTicks + 25, "streamer ticks while paused");
        Assert.Equal(stepWhilePaused, run.Loop.Step);
        Assert.False(run.Components.Governor.IsEStopped);
        using (var resume = await http.SendAsync(Post("/api/resume")))
            Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        await TestSupport.WaitUntil(() => run.Loop.Step > stepWhilePaused + 1 || run.Run.IsCompleted, "the loop to plan again after resuming");

        // The episode API lists the live episode; ids are names in the episode directory, never paths.
        var list = await Json(http, "/api/episodes");
        var id = run.Components.Recorder.Id;
        Assert.Contains(list.GetProperty("episodes").EnumerateArray(), e => e.GetProperty("id").GetString() == id && e.GetProperty("live").GetBoolean());
        using (var traversal = await http.GetAsync("/api/episodes/..%2F..%2Fetc%2Fpasswd")) Assert.Equal(HttpStatusCode.NotFound, traversal.StatusCode);

        Assert.Equal(RunOutcome.Cancelled, await run.FinishAsync());
        using var reader = EpisodeReader.Open(run.Components.Recorder.Path);
        var events = reader.Events().ToList();
        var latched = Assert.Single(events, e => e.Kind == EpisodeEventKind.EStop);
        Assert.Contains("dashboard", latched.Message);
        var released = Assert.Single(events, e => e.Kind == EpisodeEventKind.Note && e.Message.Contains("e-stop released by dashboard"));
        Assert.Contains(events, e => e.Kind == EpisodeEventKind.Note && e.Message.Contains("paused by dashboard"));
        Assert.Contains(events, e => e.Kind == EpisodeEventKind.Note && e.Message.Contains("resumed by dashboard"));
        // What went to the arm between the latch and the release: holds only (one command decided before the latch
        // may still be recorded just after it, hence the first few are skipped).
        var between = reader.Commands().Where(c => c.Ticks > latched.Ticks && c.Ticks < released.Ticks).Skip(3).ToList();
        Assert.True(between.Count >= 10, $"only {between.Count} commands recorded while latched");
        Assert.All(between, c => Assert.True(c.Sent.IsHold, $"a motion command while latched: {c.Sent}"));

        // The browser's view of a finished episode: its plans, commands and events per step, and its frames.
        var detail = await Json(http, $"/api/episodes/{id}");
        Assert.NotEmpty(detail.GetProperty("plans").EnumerateArray());
        var firstStep = detail.GetProperty("plans")[0].GetProperty("step").GetInt64();
        var frame = await http.GetByteArrayAsync($"/api/episodes/{id}/frames/{firstStep}");
        Assert.True(frame.Length > 100);
    }

    [Fact]
    public async Task Goal_uploads_pass_the_goal_image_checks_and_are_written_only_into_the_goal_directory()
    {
        using var dir = new TempDir();
        var goals = dir.File("goals");
        await using var server = await DashboardServer.StartAsync(new DashboardOptions { Listen = "127.0.0.1:0", GoalDirectory = goals }, live: null);
        using var http = new HttpClient { BaseAddress = server.Address, Timeout = TestSupport.Generous };
        async Task<(HttpStatusCode Status, string Body)> Upload(string query, byte[] data, params (string, string)[] headers)
        {
            using var request = Post("/api/goal" + query, headers);
            request.Content = new ByteArrayContent(data);
            using var response = await http.SendAsync(request);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        var empty = await Upload("?name=empty", []);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, empty.Status);
        Assert.Contains("empty", empty.Body);
        var huge = await Upload("?name=huge", PngHeaderOnly(8000, 8000));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, huge.Status);
        Assert.Contains("8000x8000", huge.Body);
        var garbage = await Upload("?name=garbage", "not an image at all"u8.ToArray());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, garbage.Status);

        var png = await File.ReadAllBytesAsync(TestScenes.GoalImage(dir.Path, TestSupport.GoalScene));
        Assert.Equal(HttpStatusCode.Created, (await Upload("?name=good", png)).Status);
        Assert.True(File.Exists(Path.Combine(goals, "good.png")));
        // Never over an existing file, never outside the goal directory, never cross-origin.
        Assert.Equal(HttpStatusCode.Conflict, (await Upload("?name=good", png)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Upload("?name=../escaped", png)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Upload("?name=%2Ftmp%2Fescaped", png)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Upload("?name=cross", png, ("Origin", "http://evil.example"))).Status);
        Assert.Equal("good.png", Path.GetFileName(Assert.Single(Directory.GetFiles(goals))));
        Assert.False(File.Exists(Path.Combine(dir.Path, "escaped.png")));
    }

    /// <summary>A PNG signature and IHDR chunk declaring the size, and nothing else: the checks must refuse it from the header.</summary>
    private static byte[] PngHeaderOnly(int width, int height)
    {
        var ihdr = new byte[17];
        "IHDR"u8.CopyTo(ihdr);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(8), height);
        ihdr[12] = 8; // bit depth
        ihdr[13] = 2; // RGB
        var png = new List<byte>([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]);
        png.AddRange(ihdr);
        var crc = Crc32(ihdr);
        png.AddRange([(byte)(crc >> 24), (byte)(crc >> 16), (byte)(crc >> 8), (byte)crc]);
        return [.. png];
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }

    [Fact]
    public async Task A_non_loopback_listen_without_a_token_refuses_to_start_before_anything_is_opened()
    {
        using var dir = new TempDir();
        var episodes = dir.File("episodes");
        var request = TestHome.SmallRun(TestScenes.GoalImage(dir.Path, TestSupport.GoalScene), episodes, steps: 3) with { Dashboard = true, DashboardListen = "0.0.0.0:0" };

        Assert.Equal(2, await RunCommand.RunAsync(request, CancellationToken.None));
        Assert.False(Directory.Exists(episodes), "the run started (an episode was created) despite the refusal");
        await Assert.ThrowsAsync<DashboardConfigurationException>(() => DashboardServer.StartAsync(new DashboardOptions { Listen = "0.0.0.0:0" }, live: null));
        await Assert.ThrowsAsync<DashboardConfigurationException>(() => DashboardServer.StartAsync(new DashboardOptions { Listen = "nonsense" }, live: null));
    }

    [Fact]
    public async Task The_episode_browser_gives_the_replay_verdict_of_every_step()
    {
        using var dir = new TempDir();
        var episodes = dir.File("episodes");
        Assert.Equal(ExitCodes.Of(RunOutcome.StepBudgetExhausted), await RunCommand.RunAsync(TestHome.SmallRun(TestScenes.GoalImage(dir.Path, TestSupport.GoalScene), episodes, steps: 3), CancellationToken.None));
        var id = Assert.Single(EpisodeCatalog.List(episodes)).Id;
        await using var server = await DashboardServer.StartAsync(new DashboardOptions { Listen = "127.0.0.1:0", EpisodesDirectory = episodes }, live: null);
        using var http = new HttpClient { BaseAddress = server.Address, Timeout = TestSupport.Generous };

        var replay = await Json(http, $"/api/episodes/{id}/replay");

        Assert.Equal(3, replay.GetProperty("steps").GetArrayLength());
        Assert.Equal(0, replay.GetProperty("diverged").GetInt32());
        Assert.All(replay.GetProperty("steps").EnumerateArray(), s => Assert.Equal(0, s.GetProperty("plan_diff").GetDouble()));
        using (var missing = await http.GetAsync("/api/episodes/no-such-episode/replay")) Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public void The_token_and_address_may_come_from_configuration_and_options_win()
    {
        var configured = Runtime.Composition.AppConfiguration.Build([new("Dashboard:Token", "from-configuration"), new("Dashboard:Listen", "0.0.0.0:5999")]);
        var options = DashboardCommand.Options(configured, listen: null, token: null, episodes: null);
        Assert.Equal(("0.0.0.0:5999", "from-configuration"), (options.Listen, options.Token));
        Assert.Equal("127.0.0.1:0", DashboardCommand.Options(configured, "127.0.0.1:0", "from-option", null).Listen);
        Assert.Equal("from-option", DashboardCommand.Options(configured, null, "from-option", null).Token);
        // Without any token a non-loopback address is refused; loopback is the default.
        var plain = Runtime.Composition.AppConfiguration.Build();
        Assert.Throws<DashboardConfigurationException>(() => DashboardCommand.Options(plain, "0.0.0.0:5080", null, null));
        Assert.Equal(DashboardOptions.DefaultListen, DashboardCommand.Options(plain, null, null, null).Listen);
    }

    [Fact]
    public async Task With_a_token_every_request_needs_it()
    {
        using var dir = new TempDir();
        const string token = "s3cret-token-for-tests";
        // Any address may be served once there is a token; the test still only talks over loopback.
        await using var server = await DashboardServer.StartAsync(new DashboardOptions { Listen = "0.0.0.0:0", Token = token, EpisodesDirectory = dir.Path }, live: null);
        using var http = new HttpClient { BaseAddress = server.Address, Timeout = TestSupport.Generous };

        using (var none = await http.GetAsync("/api/episodes")) Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        using (var page = await http.GetAsync("/")) Assert.Equal(HttpStatusCode.Unauthorized, page.StatusCode);
        using (var wrong = await http.GetAsync("/api/episodes?token=not-the-token")) Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        using (var query = await http.GetAsync($"/api/episodes?token={token}")) Assert.Equal(HttpStatusCode.OK, query.StatusCode);
        using (var bearer = new HttpRequestMessage(HttpMethod.Get, "/api/episodes"))
        {
            bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(bearer);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        // A query token is for reads (images, the page, its event stream): a state change must carry the header.
        using (var post = await http.PostAsync($"/api/estop?token={token}", null)) Assert.Equal(HttpStatusCode.Unauthorized, post.StatusCode);
    }
}
