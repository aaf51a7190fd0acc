namespace RobotCtl.Episodes.Tests;

public class CatalogTests
{
    [Fact]
    public async Task Lists_episodes_newest_first_and_reports_unreadable_files()
    {
        using var dir = new TempDir();
        var older = EpisodeRecorder.Create(dir.Path, RoundTripTests.Metadata() with { StartTimeUtc = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero) }, new RawBgrFrameEncoder());
        older.RecordTimings(0, default);
        await older.CompleteAsync(false);
        var newer = EpisodeRecorder.Create(dir.Path, RoundTripTests.Metadata("serial"), new RawBgrFrameEncoder());
        for (var i = 0; i < 3; i++) newer.RecordTimings(i, default);
        await newer.CompleteAsync(true);
        File.WriteAllText(dir.File("junk.sqlite"), new string('x', 500));
        File.WriteAllText(dir.File("readme.txt"), "not listed");

        var list = EpisodeCatalog.List(dir.Path);
        Assert.Equal([newer.Id, older.Id, "junk"], list.Select(l => l.Id));
        Assert.Equal((3L, true, "lewm-tiny@1"), (list[0].Steps!.Value, list[0].Success!.Value, list[0].Model));
        Assert.Equal((1L, false), (list[1].Steps!.Value, list[1].Success!.Value));
        Assert.Null(list[0].Error);
        Assert.StartsWith("not a robotctl episode:", list[2].Error);
        Assert.Null(list[2].Steps);
    }

    [Fact]
    public async Task Resolves_an_episode_by_path_or_by_id()
    {
        using var dir = new TempDir();
        var recorder = EpisodeRecorder.Create(dir.Path, RoundTripTests.Metadata(), new RawBgrFrameEncoder());
        await recorder.CompleteAsync(true);
        Assert.Equal(recorder.Path, EpisodeCatalog.Resolve(recorder.Path, "elsewhere"));
        Assert.Equal(recorder.Path, EpisodeCatalog.Resolve(recorder.Id, dir.Path));
        var e = Assert.Throws<FileNotFoundException>(() => EpisodeCatalog.Resolve("20990101-000000-sim-0000", dir.Path));
        Assert.Equal($"no episode '20990101-000000-sim-0000': not a file, and no 20990101-000000-sim-0000.sqlite in {dir.Path}", e.Message);
    }

    [Fact]
    public void Missing_directory_is_a_clear_error()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => EpisodeCatalog.List("/nonexistent/episodes"));
        Assert.Equal("episode directory not found: /nonexistent/episodes", e.Message);
    }
}
