using System.Collections.Concurrent;
using System.Diagnostics;
using RobotCtl.Episodes.CrashWriter;

namespace RobotCtl.Episodes.Tests;

/// <summary>
/// Episodes as files after a crash: the .sqlite file alone (checkpoints), the lock that tells "still recording" from
/// "crashed", files killed while being created, and repair. Real child processes killed with SIGKILL.
/// </summary>
public class CrashRecoveryTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public void Sqlite_file_copied_alone_after_kill_9_has_every_step_up_to_the_last_checkpoint()
    {
        using var dir = new TempDir();
        using var copies = new TempDir();
        const long lastStep = 60;
        using var writer = CrashWriterProcess.Start(dir.Path, "--stop-after", lastStep.ToString());
        var path = writer.WaitFor("path ");
        // The writer stops recording after lastStep; the idle recorder checkpoints within its interval, and then
        // writes nothing more, so the kill cannot land in the middle of a checkpoint.
        writer.WaitFor("checkpointed " + lastStep);
        writer.Kill();
        Assert.True(File.Exists(path + "-wal"), "a killed recorder leaves its write-ahead log behind");

        var copy = Path.Combine(copies.Path, Path.GetFileName(path));
        File.Copy(path, copy); // the .sqlite alone: no -wal, no -shm, no lock
        using (var reader = EpisodeReader.Open(copy))
        {
            Assert.Equal(EpisodeState.Crashed, reader.State);
            Assert.Equal("crash", reader.Info.Source);
            AssertSteps(reader, lastStep);
            Assert.Equal("the file is still in WAL mode", reader.NotClosedCleanly);
        }
        Assert.False(File.Exists(copy + "-wal"), "the reader creates nothing beside the copy");
        Assert.False(File.Exists(copy + "-shm"));
    }

    [Fact]
    public void Show_says_still_recording_while_the_writer_lives_and_crashed_after_kill_9_and_repair_folds_the_wal()
    {
        using var dir = new TempDir();
        using var writer = CrashWriterProcess.Start(dir.Path);
        var path = writer.WaitFor("path ");
        writer.WaitFor("committed ", line => long.Parse(line) >= 20);

        using (var live = EpisodeReader.Open(path))
        {
            Assert.Equal(EpisodeState.Recording, live.State);
            var summary = EpisodeSummary.Of(live);
            Assert.False(summary.Finished);
            Assert.StartsWith("still recording", summary.Status);
            Assert.True(summary.Steps >= 21);
        }
        Assert.True(File.Exists(path + "-wal"), "a reader leaves a live recording's WAL alone");
        Assert.Equal(EpisodeState.Recording, EpisodeCatalog.List(dir.Path).Single().State);

        var lastCommitted = writer.Kill();
        Assert.True(File.Exists(EpisodeLock.PathFor(path)), "a killed recorder leaves its lock file (nobody holds it)");

        // Reading changes nothing (bytes, names, times): folding the WAL in and removing the lock are repair's.
        var before = Snapshot(dir.Path);
        long readSteps;
        using (var crashed = EpisodeReader.Open(path))
        {
            Assert.Equal(EpisodeState.Crashed, crashed.State);
            Assert.StartsWith("its write-ahead log (-wal) is not folded into the file and its stale lock file", crashed.NotClosedCleanly);
            readSteps = EpisodeSummary.Of(crashed).Steps;
        }
        Assert.Equal(EpisodeState.Crashed, EpisodeCatalog.List(dir.Path).Single().State);
        Assert.Equal(before, Snapshot(dir.Path));

        var report = EpisodeRepair.Repair(path);
        Assert.Equal(EpisodeState.Crashed, report.State);
        Assert.True(report.FoldedWal);
        Assert.True(report.RemovedLock);
        Assert.Equal("ok", report.Integrity);
        var rows = report.Rows.ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.True(rows["timings"] > lastCommitted, $"printed committed step {lastCommitted}, repair counted {rows["timings"]} steps");
        Assert.Equal(readSteps, rows["timings"]); // the reader saw every committed step without folding
        Assert.True(rows["frames"] >= rows["timings"]); // a kill between commits can leave the next step's first rows
        Assert.Equal(0, rows["events"]);
        foreach (var suffix in new[] { "-wal", "-shm", EpisodeLock.Suffix }) Assert.False(File.Exists(path + suffix), path + suffix);

        using var reader = EpisodeReader.Open(path);
        Assert.Equal(EpisodeState.Crashed, reader.State);
        var after = EpisodeSummary.Of(reader);
        Assert.StartsWith("crashed", after.Status);
        Assert.Null(after.NotClosedCleanly);
        Assert.Equal(rows["timings"], after.Steps);
        AssertSteps(reader, after.Steps - 1);
        Assert.False(EpisodeRepair.Repair(path).FoldedWal, "a second repair finds nothing to fold");
    }

    [Theory]
    [InlineData("opened")]
    [InlineData("application_id")]
    public void Episode_killed_while_being_created_is_an_empty_interrupted_episode_and_repair_deletes_it(string stage)
    {
        using var dir = new TempDir();
        using var writer = CrashWriterProcess.Start(dir.Path, "--hang-at", stage);
        var path = writer.WaitFor($"stage {stage} ");
        Assert.True(File.Exists(path), $"{path} exists at stage {stage}");
        var live = Assert.Throws<EmptyEpisodeException>(() => EpisodeReader.Open(path));
        Assert.True(live.BeingCreated);
        Assert.StartsWith($"episode being created: {path}: ", live.Message);
        Assert.Throws<InvalidOperationException>(() => EpisodeRepair.Repair(path));

        writer.Kill();
        var e = Assert.Throws<EmptyEpisodeException>(() => EpisodeReader.Open(path));
        Assert.False(e.BeingCreated);
        Assert.StartsWith($"empty interrupted episode: {path}: the recording process stopped while creating it", e.Message);
        var listing = EpisodeCatalog.List(dir.Path).Single();
        Assert.True(listing.EmptyInterrupted);
        Assert.Equal(e.Message, listing.Error);

        var report = EpisodeRepair.Repair(path);
        Assert.True(report.DeletedEmpty);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public void Episode_killed_after_its_schema_commit_is_whole_with_its_wal_and_empty_interrupted_without()
    {
        using var dir = new TempDir();
        using var copies = new TempDir();
        using var writer = CrashWriterProcess.Start(dir.Path, "--hang-at", "schema");
        var path = writer.WaitFor("stage schema ");
        using (var live = EpisodeReader.Open(path)) Assert.Equal(EpisodeState.Recording, live.State);
        writer.Kill();

        var copy = Path.Combine(copies.Path, Path.GetFileName(path));
        File.Copy(path, copy); // killed before the checkpoint: the schema is only in the WAL
        Assert.StartsWith("empty interrupted episode: ", Assert.Throws<EmptyEpisodeException>(() => EpisodeReader.Open(copy)).Message);

        using var reader = EpisodeReader.Open(path);
        Assert.Equal(EpisodeState.Crashed, reader.State);
        Assert.Equal("crash", reader.Info.Source);
        Assert.Equal(0, reader.Count("timings"));
        Assert.True(File.Exists(path + "-wal"), "read from its WAL, left in place for repair");
    }

    [Fact]
    public void Zero_byte_file_is_listed_as_an_empty_interrupted_episode()
    {
        using var dir = new TempDir();
        var path = dir.File("20260101-000000-sim-0000.sqlite");
        File.WriteAllBytes(path, []);
        var e = Assert.Throws<EmptyEpisodeException>(() => EpisodeReader.Open(path));
        Assert.Equal($"empty interrupted episode: {path}: the recording process stopped while creating it, before the schema and metadata " +
                     "were written (0 bytes); nothing was recorded (episodes repair deletes it)", e.Message);
        var listing = EpisodeCatalog.List(dir.Path).Single();
        Assert.True(listing.EmptyInterrupted);
        Assert.Null(listing.State);
        Assert.True(EpisodeRepair.Repair(path).DeletedEmpty);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task Recorder_holds_its_lock_until_completed_and_the_sqlite_file_alone_follows_its_checkpoints()
    {
        using var dir = new TempDir();
        using var copies = new TempDir();
        var recorder = EpisodeRecorder.Create(dir.Path, RoundTripTests.Metadata(), new RawBgrFrameEncoder(),
            new EpisodeRecorderOptions { CheckpointInterval = TimeSpan.FromMilliseconds(200), MaxFramesInFlight = 64 });
        var copy = Path.Combine(copies.Path, "copy.sqlite");
        File.Copy(recorder.Path, copy);
        using (var fresh = EpisodeReader.Open(copy)) // right after Create: schema and metadata are in the main file
        {
            Assert.Equal("lewm-tiny@1", fresh.Info.Model);
            Assert.Equal(0, fresh.Count("timings"));
        }

        var frame = RoundTripTests.TestFrame(16, 16, 0, 0);
        for (var s = 0; s < 50; s++)
        {
            recorder.RecordFrame(s, frame);
            recorder.RecordTimings(s, new StepTimings(1, 2, 3, 4, 5, 6, s));
        }
        await Until(() => recorder.LastCheckpointedStep == 49, "the idle recorder checkpoints its last step");
        File.Copy(recorder.Path, copy, overwrite: true);
        using (var copied = EpisodeReader.Open(copy))
        {
            Assert.Equal(50, copied.Count("timings"));
            Assert.Equal(50, copied.Count("frames"));
        }

        using (var live = EpisodeReader.Open(recorder.Path)) Assert.Equal(EpisodeState.Recording, live.State); // same process, another open file: still held
        Assert.True(File.Exists(EpisodeLock.PathFor(recorder.Path)));
        await recorder.CompleteAsync(true);
        Assert.False(File.Exists(EpisodeLock.PathFor(recorder.Path)), "a finished recorder removes its lock file");
        using var finished = EpisodeReader.Open(recorder.Path);
        Assert.Equal(EpisodeState.Finished, finished.State);
        Assert.Equal("finished", EpisodeSummary.Of(finished).Status);
    }

    [Fact]
    public void A_second_recorder_cannot_take_an_episode_name_another_process_is_creating()
    {
        using var dir = new TempDir();
        using var writer = CrashWriterProcess.Start(dir.Path, "--hang-at", "opened");
        var path = writer.WaitFor("stage opened ");
        File.Delete(path); // even with the file gone, the live lock keeps the name
        var id = Path.GetFileNameWithoutExtension(path);
        var e = Assert.Throws<IOException>(() => EpisodeRecorder.Create(dir.Path, RoundTripTests.Metadata(), new RawBgrFrameEncoder(), id: id));
        Assert.Equal($"episode file {path} is being created by another process", e.Message);
    }

    /// <summary>Every file in the folder: name, size, modification time and SHA-256.</summary>
    private static string Snapshot(string directory) => string.Join("\n", Directory.GetFiles(directory).Order(StringComparer.Ordinal).Select(f =>
    {
        var info = new FileInfo(f);
        return $"{info.Name} {info.Length} {info.LastWriteTimeUtc.Ticks} {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))}";
    }));

    private static void AssertSteps(EpisodeReader reader, long lastStep)
    {
        var steps = reader.Steps().Select(s => s.Step).ToArray();
        Assert.Equal(Enumerable.Range(0, (int)lastStep + 1).Select(i => (long)i), steps);
        var frames = reader.Frames().ToDictionary(f => f.Step);
        var plans = reader.Plans().ToDictionary(p => p.Step);
        var frame = new RobotCtl.Core.Vision.Frame(32, 24);
        var latent = new float[192];
        var chunk = new float[35];
        var costs = new float[3];
        foreach (var step in steps)
        {
            StepContent.Fill(frame, latent, chunk, costs, step);
            Assert.Equal(frame.Pixels, frames[step].Data);
            Assert.Equal(chunk, plans[step].Chunk);
        }
    }

    private static async Task Until(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Patience) throw new TimeoutException($"not within {Patience.TotalSeconds} s: {what}");
            await Task.Delay(10);
        }
    }

    /// <summary>tests/RobotCtl.Episodes.CrashWriter as a child process, its stdout lines collected as they come.</summary>
    private sealed class CrashWriterProcess : IDisposable
    {
        private readonly Process _process;
        private readonly BlockingCollection<string> _lines = new();
        private long _lastCommitted = -1;

        private CrashWriterProcess(Process process)
        {
            _process = process;
            _process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) { _lines.CompleteAdding(); return; }
                if (e.Data.StartsWith("committed ")) Interlocked.Exchange(ref _lastCommitted, long.Parse(e.Data[10..]));
                _lines.Add(e.Data);
            };
            _process.BeginOutputReadLine();
        }

        public static CrashWriterProcess Start(string directory, params string[] args)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add(Repo.SiblingOutput("RobotCtl.Episodes.CrashWriter", "RobotCtl.Episodes.CrashWriter.dll"));
            psi.ArgumentList.Add(directory);
            foreach (var a in args) psi.ArgumentList.Add(a);
            return new CrashWriterProcess(Process.Start(psi)!);
        }

        /// <summary>The rest of the first line that starts with <paramref name="prefix"/> (and satisfies <paramref name="accept"/>).</summary>
        public string WaitFor(string prefix, Func<string, bool>? accept = null)
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                var left = Patience - clock.Elapsed;
                if (left <= TimeSpan.Zero || !_lines.TryTake(out var line, left))
                {
                    var exited = _process.HasExited ? $"exited {_process.ExitCode}: {_process.StandardError.ReadToEnd()}" : "still running";
                    throw new TimeoutException($"crash writer printed no '{prefix}' line within {Patience.TotalSeconds} s ({exited})");
                }
                if (line.StartsWith(prefix) && (accept is null || accept(line[prefix.Length..]))) return line[prefix.Length..];
            }
        }

        /// <summary>SIGKILL (no managed shutdown, no flush, no checkpoint); returns the last committed step it printed.</summary>
        public long Kill()
        {
            _process.Kill();
            _process.WaitForExit();
            Assert.Equal(137, _process.ExitCode); // 128 + SIGKILL
            return Interlocked.Read(ref _lastCommitted);
        }

        public void Dispose()
        {
            if (!_process.HasExited) { _process.Kill(); _process.WaitForExit(); }
            _process.Dispose();
        }
    }
}
