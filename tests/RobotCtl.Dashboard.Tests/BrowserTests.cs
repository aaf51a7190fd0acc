using System.Diagnostics;
using System.Text.Json;
using RobotCtl.Host.Commands;
using RobotCtl.Runtime;

namespace RobotCtl.Dashboard.Tests;

/// <summary>
/// The live page in a real browser: Debian's headless Chromium driven by playwright-core (tests/js/dashboard-live.mjs)
/// against `run` with a dashboard, composed exactly as the CLI does (RunCommand). The screenshot is kept under
/// artifacts/dashboard/ for CI.
/// </summary>
[Trait("Category", "Slow")]
public class BrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task The_live_page_shows_the_camera_changing_and_its_estop_button_latches_the_run()
    {
        var script = Path.Combine(TestHome.Root, "tests", "js", "dashboard-live.mjs");
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run scripts/setup (installs Debian's chromium)");
        Assert.True(Directory.Exists(Path.Combine(TestHome.Root, "tests", "js", "node_modules", "playwright-core")),
            "tests/js/node_modules/playwright-core is missing: run scripts/setup (npm ci in tests/js)");

        using var dir = new TempDir();
        var request = TestHome.SmallRun(TestScenes.GoalImage(dir.Path, TestSupport.GoalScene), dir.File("episodes"), steps: 100_000) with
        {
            Dashboard = true,
            DashboardListen = "127.0.0.1:0",
        };
        request = request with { Sets = [.. request.Sets, $"Safety:ControlDirectory={dir.File("run")}"] };
        var address = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cts = new CancellationTokenSource();
        var run = RunCommand.RunAsync(request, cts.Token, dashboardStarted: address.SetResult);
        try
        {
            var started = await Task.WhenAny(address.Task, run).WaitAsync(TestSupport.Generous);
            if (started == run) Assert.Fail($"the run ended with exit {await run} before its dashboard started");
            var url = (await address.Task).ToString();

            var screenshot = Path.Combine(TestHome.Root, "artifacts", "dashboard", "live-estop.png");
            Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
            var (code, output, error) = await Node(script, url, screenshot);
            Assert.True(code == 0, $"dashboard-live.mjs failed ({code}): {error}\n{output}");

            var seen = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
            Assert.True(seen.GetProperty("second").GetInt64() > seen.GetProperty("first").GetInt64());
            // (The version is set by the image's load handler: a newer frame was fetched and shown.)
            Assert.True(seen.GetProperty("goalWidth").GetInt32() > 0, "the goal image did not load");
            Assert.Equal("E-STOP LATCHED", seen.GetProperty("estopText").GetString());
            Assert.True(seen.GetProperty("bannerVisible").GetBoolean());
            Assert.True(seen.GetProperty("status").GetProperty("estop").GetBoolean());
            Assert.Empty(seen.GetProperty("external").EnumerateArray()); // no CDN, nothing outside the dashboard
            Assert.Empty(seen.GetProperty("pageErrors").EnumerateArray());
            // The episode browser, reached from the live page's link to the episode being recorded: scrubbing moves the step.
            var scrubbed = seen.GetProperty("scrubbed");
            Assert.True(scrubbed.GetProperty("lastIndex").GetInt32() > 0);
            Assert.NotEqual(scrubbed.GetProperty("firstStep").GetString(), scrubbed.GetProperty("lastStep").GetString());
            Assert.Contains($"/frames/{scrubbed.GetProperty("lastStep").GetString()}", scrubbed.GetProperty("frameSrc").GetString());
            Assert.True(new FileInfo(screenshot).Length > 1000, "no screenshot");

            // The run itself is latched: it waits for release instead of going on or ending.
            using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TestSupport.Generous };
            var status = JsonDocument.Parse(await http.GetStringAsync("/api/status")).RootElement;
            Assert.True(status.GetProperty("estop").GetBoolean());
            Assert.True(status.GetProperty("governor").GetProperty("events").TryGetProperty("EStop", out _) || !run.IsCompleted);
            Assert.False(run.IsCompleted, "a latched run waits for release or interruption");
        }
        finally
        {
            cts.Cancel();
        }
        Assert.Equal(ExitCodes.Of(RunOutcome.Cancelled), await run.WaitAsync(TestSupport.Generous));
    }

    private static async Task<(int Code, string Out, string Err)> Node(params string[] args)
    {
        var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await p.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"node {string.Join(' ', args)} did not finish in 120 s: {await error}");
        }
        return (p.ExitCode, await output, await error);
    }
}
