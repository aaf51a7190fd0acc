using RobotCtl.Episodes;
using RobotCtl.Host.Commands;
using RobotCtl.Runtime;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Dashboard.Tests;

/// <summary>`episodes export --format mp4|png`: a recorded sim episode as a video and as a summary plot.</summary>
[Trait("Category", "Slow")]
public class EpisodePicturesTests
{
    [Fact]
    public async Task A_recorded_episode_exports_as_an_mp4_video_and_a_png_summary_plot_leaving_no_temporary_files()
    {
        using var dir = new TempDir();
        var episodes = dir.File("episodes");
        Assert.Equal(ExitCodes.Of(RunOutcome.StepBudgetExhausted), await RunCommand.RunAsync(TestHome.SmallRun(TestScenes.GoalImage(dir.Path, TestSupport.GoalScene), episodes, steps: 4), CancellationToken.None));
        using var reader = EpisodeReader.Open(Assert.Single(EpisodeCatalog.List(episodes)).Path);
        var output = dir.File("out");

        var video = EpisodePictures.ExportVideo(reader, Path.Combine(output, "episode.mp4"));
        Assert.Equal(4, video.Frames);
        Assert.InRange(video.Fps, 1, 30);
        var mp4 = await File.ReadAllBytesAsync(video.Path);
        // An ISO base media file: an ftyp box first, the frames and the index in it.
        Assert.Equal("ftyp", System.Text.Encoding.ASCII.GetString(mp4, 4, 4));
        Assert.True(mp4.AsSpan().IndexOf("moov"u8) > 0 && mp4.AsSpan().IndexOf("mdat"u8) > 0, "no moov/mdat box");

        var plot = EpisodePictures.SaveSummaryPlot(reader, Path.Combine(output, "episode.png"));
        Assert.Equal((960, 720), (plot.Width, plot.Height));
        var image = ImageIo.Load(plot.Path);
        Assert.Equal((960, 720), (image.Width, image.Height));
        // Each recorded series is drawn in its own colour inside its own third of the picture, top to bottom.
        var panels = EpisodePictures.SummaryPanels(reader);
        Assert.Equal(3, panels.Length);
        for (var i = 0; i < panels.Length; i++)
        {
            Assert.Contains(panels[i].Points, p => p.Value is { } v && double.IsFinite(v));
            Assert.True(SummaryPlotTests.PixelsOfColour(image, panels[i].Color, fromRow: i * 240, toRow: (i + 1) * 240) > 20, $"panel {i} ({panels[i].Title}): its line is missing");
        }

        Assert.Equal(["episode.mp4", "episode.png"], Directory.GetFiles(output).Select(f => Path.GetFileName(f)!).Order().ToArray());
    }
}
