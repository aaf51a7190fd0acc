using RobotCtl.Core.WorldModel;
using RobotCtl.Core.Vision;
using RobotCtl.Episodes;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Dashboard;

/// <summary>
/// Pictures of a recorded episode outside the browser, for reports and issues: the frames as an MP4 video with the
/// current goal inset, and a PNG summary plot (latent distance to the goal, plan ms, surprise over the steps). Both are
/// written next to the target and renamed into place, so a failed export leaves no partial file.
/// </summary>
public static class EpisodePictures
{
    /// <summary>Writes the episode's frames as MPEG-4 video (OpenCV's FFmpeg backend, 'mp4v'), the goal of each step inset top-right.</summary>
    /// <param name="fps">Frames per second; null: the recording's own pace (frames over its duration), within 1..30.</param>
    public static PictureExport ExportVideo(EpisodeReader reader, string path, double? fps = null)
    {
        var goals = reader.GoalImages().GroupBy(g => g.GoalIndex).OrderBy(g => g.Key).Select(g => Decode(g.First().Data, $"goal {g.Key}")).ToArray();
        var goalOf = GoalIndexPerStep(reader, Math.Max(1, goals.Length));
        var frames = reader.Frames().ToList();
        if (frames.Count == 0) throw new InvalidOperationException($"episode {reader.Info.Id} has no frames to make a video of");
        var rate = fps ?? PaceOf(reader, frames);
        var first = Decode(frames[0].Data, $"frame of step {frames[0].Step}");
        var frame = new Frame(first.Width, first.Height);
        return WriteAtomically(path, temporary =>
        {
            using (var writer = new VideoFileWriter(temporary, first.Width, first.Height, rate, "mp4v"))
            {
                foreach (var row in frames)
                {
                    ImageIo.DecodeInto(row.Data, frame, $"frame of step {row.Step}");
                    if (frame.Width != first.Width || frame.Height != first.Height)
                        throw new InvalidOperationException($"frame of step {row.Step} is {frame.Width}x{frame.Height}, the video is {first.Width}x{first.Height}");
                    if (goals.Length > 0) Inset(frame, goals[Math.Min(goalOf(row.Step), goals.Length - 1)]);
                    writer.Write(frame);
                }
            }
            return new PictureExport(path, frames.Count, first.Width, first.Height, rate);
        });
    }

    /// <summary>Writes a PNG plot of the episode: latent distance to the goal, plan ms and surprise over the steps.</summary>
    public static PictureExport SaveSummaryPlot(EpisodeReader reader, string path)
    {
        var panels = SummaryPanels(reader);
        return WriteAtomically(path, temporary =>
        {
            SummaryPlot.SavePng(temporary, panels);
            return new PictureExport(path, 1, SummaryPlot.Width, SummaryPlot.Height, 0);
        });
    }

    /// <summary>What the summary plot shows, top to bottom.</summary>
    internal static SummaryPanel[] SummaryPanels(EpisodeReader reader)
    {
        var goalLatents = reader.Latents().Where(l => l.Kind == LatentKind.Goal).OrderByDescending(l => l.Step).Select(l => l.Values).ToArray(); // steps -1, -2, ...
        var goalOf = GoalIndexPerStep(reader, Math.Max(1, goalLatents.Length));
        var distance = reader.Latents().Where(l => l.Kind == LatentKind.Observed && goalLatents.Length > 0)
            .Select(l => (l.Step, (double?)LatentDistance.MeanSquared(l.Values, goalLatents[Math.Min(goalOf(l.Step), goalLatents.Length - 1)]))).ToList();
        var planMs = reader.Plans().Select(p => (p.Step, (double?)p.ElapsedMs)).ToList();
        var surprise = reader.Surprises().Select(s => (s.Step, (double?)s.Value)).ToList();
        return
        [
            new("Latent distance to the goal", "mean squared", distance, new ScottPlot.Color(200, 120, 40)),
            new("Plan time", "ms", planMs, new ScottPlot.Color(40, 160, 220)),
            new("Surprise: predicted vs observed latent", "mean squared", surprise, new ScottPlot.Color(60, 90, 230)),
        ];
    }

    /// <summary>The goal each step planned toward: a goal-reached event at step s moves the chain on from s.</summary>
    private static Func<long, int> GoalIndexPerStep(EpisodeReader reader, int goals)
    {
        var reached = reader.Events().Where(e => e.Kind == EpisodeEventKind.GoalReached && e.Step >= 0).Select(e => e.Step).Order().ToArray();
        return step => Math.Min(goals - 1, reached.Count(s => s <= step));
    }

    private static double PaceOf(EpisodeReader reader, List<FrameRow> frames)
    {
        if (frames.Count < 2) return 5;
        var seconds = reader.Info.TicksToMs(frames[^1].CaptureTicks - frames[0].CaptureTicks) / 1000.0;
        return seconds > 0 ? Math.Clamp((frames.Count - 1) / seconds, 1, 30) : 5;
    }

    private static Frame Decode(byte[] data, string what)
    {
        var frame = new Frame(1, 1);
        ImageIo.DecodeInto(data, frame, what);
        return frame;
    }

    /// <summary>The goal at a quarter of the width, nearest-neighbour, framed in white, in the top-right corner.</summary>
    private static void Inset(Frame frame, Frame goal)
    {
        var w = Math.Max(8, frame.Width / 4);
        var h = Math.Max(8, goal.Height * w / goal.Width);
        var x0 = frame.Width - w - 4;
        const int y0 = 4;
        for (var y = -1; y <= h; y++)
        for (var x = -1; x <= w; x++)
        {
            var fx = x0 + x;
            var fy = y0 + y;
            if (fx < 0 || fy < 0 || fx >= frame.Width || fy >= frame.Height) continue;
            var d = (fy * frame.Width + fx) * 3;
            if (x < 0 || y < 0 || x == w || y == h)
            {
                frame.Pixels[d] = frame.Pixels[d + 1] = frame.Pixels[d + 2] = 255;
                continue;
            }
            var s = ((y * goal.Height / h) * goal.Width + x * goal.Width / w) * 3;
            frame.Pixels[d] = goal.Pixels[s];
            frame.Pixels[d + 1] = goal.Pixels[s + 1];
            frame.Pixels[d + 2] = goal.Pixels[s + 2];
        }
    }

    private static PictureExport WriteAtomically(string path, Func<string, PictureExport> write)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        // The extension stays last: OpenCV picks the container from it.
        var temporary = Path.Combine(directory, $".{Path.GetFileNameWithoutExtension(full)}.{Guid.NewGuid():N}.tmp{Path.GetExtension(full)}");
        try
        {
            var result = write(temporary);
            if (!File.Exists(temporary) || new FileInfo(temporary).Length == 0) throw new IOException($"nothing was written to {path}");
            File.Move(temporary, full, overwrite: true);
            return result with { Path = full };
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
