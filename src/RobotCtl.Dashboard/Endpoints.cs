using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using RobotCtl.Core.Arm;
using RobotCtl.Core.Timing;
using RobotCtl.Core.Vision;
using RobotCtl.Episodes;
using RobotCtl.Runtime;
using RobotCtl.Vision;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Dashboard;

/// <summary>The dashboard's routes: pages, the live run's status, images, events and e-stop, and the episode browser's API.</summary>
internal sealed partial class Endpoints(LiveRun? live, DashboardOptions options, CancellationToken stopping)
{
    private readonly string? episodesDirectory = options.EpisodesDirectory;

    /// <summary>At most this many updates a second on the event stream.</summary>
    public static readonly TimeSpan EventInterval = TimeSpan.FromMilliseconds(250);

    public void Map(WebApplication app)
    {
        var livePage = DashboardServer.Page("live.html");
        var episodesPage = DashboardServer.Page("episodes.html");
        app.MapGet("/", () => Results.Content(live is null ? episodesPage : livePage, "text/html; charset=utf-8"));
        app.MapGet("/episodes", () => Results.Content(episodesPage, "text/html; charset=utf-8"));

        app.MapGet("/api/status", () => live is null ? NoRun() : Results.Json(Status(live), DashboardServer.Json));
        app.MapGet("/api/events", Events);
        app.MapGet("/api/camera.jpg", () =>
            live?.CameraJpeg() is { } jpeg ? Results.Bytes(jpeg.Jpeg, "image/jpeg") : live is null ? NoRun() : NotYet());
        app.MapGet("/api/goal.png", (int? index) =>
        {
            if (live is null) return NoRun();
            var i = index ?? live.Snapshot.Last?.GoalIndex ?? 0;
            return live.GoalPng(i) is { } png ? Results.Bytes(png, "image/png") : Error(404, $"no goal {i}: the run has {live.Components.Goals.Count}");
        });
        app.MapPost("/api/estop", (HttpContext context) =>
        {
            if (live?.Components.EStop is not { } estop) return live is null ? NoRun() : Error(409, "this run has no e-stop input");
            var message = estop.Latch($"dashboard ({context.Connection.RemoteIpAddress})");
            return Results.Json(new { estop = estop.IsLatched, message }, DashboardServer.Json);
        });
        app.MapPost("/api/estop/release", (HttpContext context) =>
        {
            if (live?.Components.EStop is not { } estop) return live is null ? NoRun() : Error(409, "this run has no e-stop input");
            var message = estop.Release($"dashboard ({context.Connection.RemoteIpAddress})");
            return Results.Json(new { estop = estop.IsLatched, message }, DashboardServer.Json);
        });

        app.MapPost("/api/pause", (HttpContext context) =>
        {
            if (live?.Components.Pause is not { } pause) return live is null ? NoRun() : Error(409, "this run has no pause input");
            var message = pause.Pause($"dashboard ({context.Connection.RemoteIpAddress})");
            return Results.Json(new { paused = pause.IsPaused, message }, DashboardServer.Json);
        });
        app.MapPost("/api/resume", (HttpContext context) =>
        {
            if (live?.Components.Pause is not { } pause) return live is null ? NoRun() : Error(409, "this run has no pause input");
            var message = pause.Resume($"dashboard ({context.Connection.RemoteIpAddress})");
            return Results.Json(new { paused = pause.IsPaused, message }, DashboardServer.Json);
        });

        app.MapPost("/api/goal", UploadGoal);
        app.MapPost("/api/goal/snapshot", SnapshotGoal);

        app.MapGet("/api/episodes", ListEpisodes);
        app.MapGet("/api/episodes/{id}", EpisodeDetail);
        app.MapGet("/api/episodes/{id}/replay", EpisodeReplay);
        app.MapGet("/api/episodes/{id}/frames/{step:long}", EpisodeFrame);
        app.MapGet("/api/episodes/{id}/goals/{index:int}", EpisodeGoal);
    }

    private static IResult Error(int status, string message) => Results.Json(new { error = message }, DashboardServer.Json, statusCode: status);
    private static IResult NoRun() => Error(404, "no live run: this dashboard serves recorded episodes only");
    private static IResult NotYet() => Error(503, "no cycle has completed yet");

    // ---- live ----

    internal static object Status(LiveRun live)
    {
        var c = live.Components;
        var last = live.Snapshot.Last;
        var governor = c.Governor;
        var now = MonotonicClock.Now;
        return new
        {
            step = last?.Step,
            goal_index = last?.GoalIndex ?? 0,
            goal_count = c.Goals.Count,
            distance = last is { } a ? LiveSnapshot.Finite(a.GoalDistance) : null,
            plan_ms = last is { } b ? LiveSnapshot.Finite(b.PlanMs) : null,
            surprise = last is { } s ? LiveSnapshot.Finite(s.Surprise) : null,
            iterations = last?.Iterations,
            cycle_ms = last is { } m ? LiveSnapshot.Finite(m.CycleMs) : null,
            estop = governor.IsEStopped,
            paused = c.Pause?.IsPaused ?? false,
            link = c.Arm.Status.ToString().ToLowerInvariant(),
            arm = c.Arm.Description,
            link_silence_ms = c.LinkMonitor?.Silence(now).TotalMilliseconds,
            governor = new
            {
                governed = governor.Governed,
                transmitted = governor.Transmitted,
                holds = c.Streamer.Holds,
                watchdog = governor.WatchdogExpired,
                events = governor.Counts().Where(kv => kv.Value > 0).ToDictionary(kv => kv.Key.ToString(), kv => kv.Value),
            },
            episode = c.Recorder?.Id,
            planner = c.PlannerName,
            version = live.Snapshot.Version,
        };
    }

    private async Task Events(HttpContext context)
    {
        if (live is null)
        {
            await NoRun().ExecuteAsync(context).ConfigureAwait(false);
            return;
        }
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        using var both = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var ct = both.Token;
        long sent = -1;
        bool? estopSent = null;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var version = live.Snapshot.Version;
                var estop = live.Components.Governor.IsEStopped;
                if (version != sent || estop != estopSent)
                {
                    // Only the cycles this client has not seen yet: a reconnecting page gets the whole history.
                    var payload = new { status = Status(live), history = live.Snapshot.History(Math.Max(0, sent)) };
                    var json = System.Text.Json.JsonSerializer.Serialize(payload, DashboardServer.Json);
                    await context.Response.WriteAsync($"data: {json}\n\n", Encoding.UTF8, ct).ConfigureAwait(false);
                    await context.Response.Body.FlushAsync(ct).ConfigureAwait(false);
                    sent = version;
                    estopSent = estop;
                }
                await Task.Delay(EventInterval, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The page went away or the server is stopping.
        }
    }

    // ---- goal images: uploads and snapshots, written only into the goal directory ----

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,100}$")]
    private static partial Regex GoalName();

    /// <summary>
    /// A goal image uploaded as the request body (any format a goal file may have). It passes the same checks as a goal
    /// file (<see cref="ImageIo.DecodeInto"/>: not empty, within the pixel limit, decodable) and is saved re-encoded as
    /// PNG under a plain name in the goal directory, never over an existing file.
    /// </summary>
    private async Task<IResult> UploadGoal(HttpContext context, string? name)
    {
        var limits = ImageLoadOptions.Default;
        var maxBytes = limits.MaxPixels * 8 + (1 << 20); // as ImageIo.Load: no image within the pixel limit is bigger
        if (context.Request.ContentLength is { } declared && declared > maxBytes) return Error(413, $"the upload is {declared} bytes, more than any image within the limit of {limits.MaxPixels} pixels");
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted).ConfigureAwait(false);
        var frame = new Frame(1, 1);
        try
        {
            ImageIo.DecodeInto(body.GetBuffer().AsSpan(0, (int)body.Length), frame, "upload", limits);
        }
        catch (ImageLoadException e)
        {
            return Error(422, e.Message);
        }
        return SaveGoal(frame, name);
    }

    /// <summary>The current camera frame of the live run as a goal image ("take goal snapshot").</summary>
    private IResult SnapshotGoal(string? name)
    {
        if (live is null) return NoRun();
        var frame = new Frame(1, 1);
        if (!live.Snapshot.CopyFrame(frame, out _)) return NotYet();
        return SaveGoal(frame, name);
    }

    private IResult SaveGoal(Frame frame, string? name)
    {
        if (options.GoalDirectory is null) return Error(409, "no goal directory is configured (Dashboard:GoalDirectory)");
        name ??= $"goal-{DateTime.UtcNow:yyyyMMdd-HHmmss-fff}";
        if (!GoalName().IsMatch(name)) return Error(400, $"name {name}: expected letters, digits, '-' or '_' (it becomes <name>.png in the goal directory)");
        var directory = Path.GetFullPath(options.GoalDirectory);
        var path = Path.Combine(directory, name + ".png");
        if (Path.GetDirectoryName(path) != directory.TrimEnd(Path.DirectorySeparatorChar)) return Error(400, $"name {name}: not a plain file name");
        var buffer = new byte[frame.Pixels.Length + frame.Height + 4096];
        var length = ImageIo.EncodePng(frame, buffer);
        Directory.CreateDirectory(directory);
        try
        {
            using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            file.Write(buffer, 0, length);
        }
        catch (IOException) when (File.Exists(path))
        {
            return Error(409, $"{name}.png already exists in the goal directory; choose another name");
        }
        return Results.Json(new { path, width = frame.Width, height = frame.Height }, DashboardServer.Json, statusCode: 201);
    }

    // ---- episodes ----

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")]
    private static partial Regex EpisodeId();

    /// <summary>The file of an episode id, only ever inside the episode directory (no paths, no "..").</summary>
    private string? EpisodePath(string id)
    {
        if (episodesDirectory is null || !EpisodeId().IsMatch(id) || id.Contains("..", StringComparison.Ordinal)) return null;
        var directory = Path.GetFullPath(episodesDirectory);
        var path = Path.GetFullPath(Path.Combine(directory, id + EpisodeCatalog.FileExtension));
        return Path.GetDirectoryName(path) == directory.TrimEnd(Path.DirectorySeparatorChar) && File.Exists(path) ? path : null;
    }

    private IResult ListEpisodes()
    {
        if (episodesDirectory is null || !Directory.Exists(episodesDirectory)) return Results.Json(new { directory = episodesDirectory, episodes = Array.Empty<object>() }, DashboardServer.Json);
        var episodes = EpisodeCatalog.List(episodesDirectory).Select(l =>
        {
            string? outcome = null;
            if (l.Error is null)
            {
                try
                {
                    using var reader = EpisodeReader.Open(l.Path);
                    outcome = reader.Info.Outcome;
                }
                catch (EpisodeFormatException) { }
            }
            return new
            {
                id = l.Id,
                start = l.StartTimeUtc,
                duration_s = l.Duration?.TotalSeconds,
                steps = l.Steps,
                success = l.Success,
                outcome,
                model = l.Model,
                state = l.State?.ToString().ToLowerInvariant(),
                error = l.Error,
                live = live?.Components.Recorder?.Id == l.Id,
            };
        }).ToArray();
        return Results.Json(new { directory = episodesDirectory, episodes }, DashboardServer.Json);
    }

    private IResult EpisodeDetail(string id)
    {
        if (EpisodePath(id) is not { } path) return Error(404, $"no episode {id}");
        EpisodeReader reader;
        try
        {
            reader = EpisodeReader.Open(path);
        }
        catch (EpisodeFormatException e)
        {
            return Error(422, e.Message);
        }
        using (reader)
        {
            var info = reader.Info;
            double Ms(long ticks) => info.TicksToMs(ticks - info.StartTicks);
            var summary = EpisodeSummary.Of(reader);
            var plans = reader.Plans().Select(p => new
            {
                step = p.Step,
                t_ms = Ms(p.Ticks),
                elapsed_ms = p.ElapsedMs,
                final_cost = Finite(p.FinalCost),
                iterations = p.Iterations,
                costs = p.CostPerIteration.Select(Finite).ToArray(),
                first_action = p.Chunk.Take(p.ChunkShape is [_, var dim, ..] ? dim : 7).ToArray(),
            }).ToArray();
            var commands = reader.Commands().GroupBy(c => c.Step).Select(g => new
            {
                step = g.Key,
                count = g.Count(),
                holds = g.Count(c => c.Sent.IsHold),
                clamped = g.Count(c => c.WasClamped),
                reasons = g.Where(c => c.Reason is not null).Select(c => c.Reason).Distinct().ToArray(),
                sent = g.Select(c => Components(c.Sent)).ToArray(),
            }).ToArray();
            return Results.Json(new
            {
                id = info.Id,
                model = info.Model,
                source = info.Source,
                start = info.StartTimeUtc,
                end = info.EndTimeUtc,
                duration_s = summary.Duration.TotalSeconds,
                success = info.Success,
                outcome = info.Outcome,
                state = summary.Status,
                goals = info.Goals,
                goal_images = reader.GoalImages().Select(g => g.GoalIndex).Distinct().ToArray(),
                frames = reader.Steps().Select(s => s.Step).ToArray(),
                counts = new { summary.Steps, summary.Frames, summary.Plans, summary.Commands, clamped = summary.ClampedCommands, summary.Faults, estops = summary.EStops, summary.Gaps },
                plans,
                commands,
                surprise = reader.Surprises().Select(s => new { step = s.Step, value = Finite(s.Value) }).ToArray(),
                events = reader.Events().Select(e => new { step = e.Step, t_ms = Ms(e.Ticks), kind = e.Kind.ToString(), message = e.Message }).ToArray(),
                timings = reader.Steps().Select(s => new { step = s.Step, total_ms = s.Timings.TotalMs }).ToArray(),
            }, DashboardServer.Json);
        }
    }

    /// <summary>One replay at a time: it loads the episode's model and recomputes every plan (seconds of CPU).</summary>
    private static readonly SemaphoreSlim ReplayGate = new(1, 1);

    /// <summary>
    /// The replay verdict per step: every plan recomputed with the recorded model, seeds, iteration counts and loop
    /// decisions (the same <see cref="ReplaySession"/> as `robotctl replay`), compared with what was recorded.
    /// </summary>
    private async Task<IResult> EpisodeReplay(string id, CancellationToken ct)
    {
        if (EpisodePath(id) is not { } path) return Error(404, $"no episode {id}");
        if (live?.Components.Recorder?.Id == id) return Error(409, $"episode {id} is still being recorded; replay it when the run has ended");
        if (!await ReplayGate.WaitAsync(TimeSpan.Zero, ct).ConfigureAwait(false)) return Error(429, "another replay is running; try again when it has finished");
        try
        {
            return await Task.Run(() =>
            {
                try
                {
                    using var reader = EpisodeReader.Open(path);
                    using var session = ReplaySession.Open(reader);
                    var steps = session.Replayer.Replay(reader).Select(s => new
                    {
                        step = s.Step, latent_diff = double.IsFinite(s.LatentDiff) ? s.LatentDiff : (double?)null, plan_diff = s.PlanDiff,
                        iterations = s.Iterations, commands = s.CommandsCompared, command_diff = s.CommandDiff, context_frames = s.ContextFrames,
                        diverges = s.Diverges,
                    }).ToArray();
                    return Results.Json(new
                    {
                        episode = id, steps, diverged = steps.Count(s => s.diverges),
                        max_plan_diff = steps.Length == 0 ? 0 : steps.Max(s => s.plan_diff),
                    }, DashboardServer.Json);
                }
                catch (Exception e) when (e is EpisodeFormatException or InvalidDataException or IOException or ArgumentException
                                              or InvalidOperationException or ConfigurationValueException or Core.WorldModel.WorldModelException)
                {
                    return Error(422, $"episode {id} cannot be replayed: {e.Message}");
                }
            }, ct).ConfigureAwait(false);
        }
        finally
        {
            ReplayGate.Release();
        }
    }

    private static float[] Components(EeCommand c) => [(float)c.Dx, (float)c.Dy, (float)c.Dz, (float)c.DRoll, (float)c.DPitch, (float)c.DYaw, (float)c.Gripper];

    private static float? Finite(float v) => float.IsFinite(v) ? v : null;

    private IResult EpisodeFrame(string id, long step) => EpisodeImage(id, r => r.Frames().Where(f => f.Step == step).Select(f => (f.Format, f.Data)).FirstOrDefault(), $"frame of step {step}");

    private IResult EpisodeGoal(string id, int index) => EpisodeImage(id, r => r.GoalImages().Where(g => g.GoalIndex == index).Select(g => (g.Format, g.Data)).FirstOrDefault(), $"goal {index}");

    private IResult EpisodeImage(string id, Func<EpisodeReader, (string Format, byte[] Data)> find, string what)
    {
        if (EpisodePath(id) is not { } path) return Error(404, $"no episode {id}");
        try
        {
            using var reader = EpisodeReader.Open(path);
            var (format, data) = find(reader);
            if (data is null) return Error(404, $"episode {id} has no {what}");
            return Results.Bytes(data, format is "png" ? "image/png" : "image/jpeg");
        }
        catch (EpisodeFormatException e)
        {
            return Error(422, e.Message);
        }
    }
}
