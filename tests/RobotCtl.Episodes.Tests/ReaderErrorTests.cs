using Microsoft.Data.Sqlite;

namespace RobotCtl.Episodes.Tests;

public class ReaderErrorTests
{
    private static string OpenError(string path) => Assert.Throws<EpisodeFormatException>(() => EpisodeReader.Open(path)).Message;

    [Fact]
    public void Missing_file()
    {
        using var dir = new TempDir();
        var path = dir.File("nope.sqlite");
        Assert.Equal($"not a robotctl episode: {path}: file not found", OpenError(path));
    }

    [Fact]
    public void Text_file_is_not_sqlite()
    {
        using var dir = new TempDir();
        var path = dir.File("notes.sqlite");
        File.WriteAllText(path, string.Concat(Enumerable.Repeat("this is not a database\n", 50)));
        Assert.Equal($"not a robotctl episode: {path}: not an SQLite database (file is not a database)", OpenError(path));
    }

    [Fact]
    public void Tiny_file_is_not_sqlite()
    {
        using var dir = new TempDir();
        var path = dir.File("tiny.sqlite");
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.StartsWith($"not a robotctl episode: {path}: not an SQLite database", OpenError(path));
    }

    [Fact]
    public void Other_sqlite_database_is_refused_by_application_id()
    {
        using var dir = new TempDir();
        var path = dir.File("other.sqlite");
        using (var c = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "CREATE TABLE frames(x); INSERT INTO frames VALUES (1);";
            cmd.ExecuteNonQuery();
        }
        Assert.Equal($"not a robotctl episode: {path}: an SQLite database, but not an episode (application_id 0x00000000, expected 0x52434550)", OpenError(path));
    }

    [Fact]
    public async Task Newer_schema_version_is_refused()
    {
        using var dir = new TempDir();
        var recorder = EpisodeRecorder.Create(dir.Path, RoundTripTests.Metadata(), new RawBgrFrameEncoder());
        await recorder.CompleteAsync(true);
        using (var c = new SqliteConnection($"Data Source={recorder.Path};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "PRAGMA user_version = 7";
            cmd.ExecuteNonQuery();
        }
        Assert.Equal($"not a robotctl episode: {recorder.Path}: schema version 7, this robotctl reads version 1", OpenError(recorder.Path));
    }

    [Fact]
    public async Task Corrupt_schema_page_gives_a_clear_error()
    {
        using var dir = new TempDir();
        var path = await RecordSomeSteps(dir.Path, 20);
        using (var f = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            f.Position = 100; // page 1 after the 100-byte header: the table of tables
            f.Write(Enumerable.Repeat((byte)0xA5, 3000).ToArray());
        }
        var message = OpenError(path);
        Assert.StartsWith($"not a robotctl episode: {path}: ", message);
        Assert.Contains("malformed", message);
    }

    [Fact]
    public async Task Truncated_file_fails_while_reading_with_a_clear_error_not_a_crash()
    {
        using var dir = new TempDir();
        var path = await RecordSomeSteps(dir.Path, 200);
        using (var f = new FileStream(path, FileMode.Open, FileAccess.Write)) f.SetLength(f.Length / 2);
        var e = Assert.Throws<EpisodeFormatException>(() =>
        {
            using var reader = EpisodeReader.Open(path);
            foreach (var frame in reader.Frames()) { }
            foreach (var s in reader.Steps()) { }
        });
        Assert.StartsWith($"not a robotctl episode: {path}: ", e.Message);
    }

    internal static async Task<string> RecordSomeSteps(string directory, int steps)
    {
        var recorder = EpisodeRecorder.Create(directory, RoundTripTests.Metadata(), new RawBgrFrameEncoder());
        var frame = RoundTripTests.TestFrame(32, 32, 0, 0);
        for (var s = 0; s < steps; s++)
        {
            recorder.RecordFrame(s, frame);
            recorder.RecordTimings(s, new StepTimings(1, 2, 3, 4, 5, 6, 21));
        }
        await recorder.CompleteAsync(true);
        return recorder.Path;
    }
}
