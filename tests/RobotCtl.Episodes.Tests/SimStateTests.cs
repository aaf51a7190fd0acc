using Microsoft.Data.Sqlite;
using RobotCtl.Episodes.Mcap;

namespace RobotCtl.Episodes.Tests;

/// <summary>The optional sim_states table: written by new files, absent from older ones, which must stay readable.</summary>
public class SimStateTests
{
    private static readonly SimStateSample A = new(0.1, -0.2, 0.02, 0.05, 0.06, -0.7);
    private static readonly SimStateSample B = new(0.12, -0.19, 0.02, 0.05, 0.061, double.NaN);

    [Fact]
    public async Task Sim_states_read_back_as_recorded()
    {
        using var dir = new TempDir();
        var recorder = EpisodeRecorder.Create(dir.Path, RoundTripTests.Metadata(), new RawBgrFrameEncoder(), id: "with-sim");
        Assert.True(recorder.RecordSimState(0, A.EeX, A.EeY, A.EeZ, A.BlockX, A.BlockY, A.BlockYaw));
        Assert.True(recorder.RecordSimState(1, B));
        await recorder.CompleteAsync(null);

        Assert.Equal(dir.File("with-sim.sqlite"), recorder.Path);
        using var reader = EpisodeReader.Open(recorder.Path);
        Assert.True(reader.HasSimStates);
        Assert.Equal(2, reader.Count("sim_states"));
        var rows = reader.SimStates().ToList();
        Assert.Equal([0L, 1L], rows.Select(r => r.Step));
        Assert.Equal(A, rows[0].State);
        Assert.Equal(B with { BlockYaw = 0 }, rows[1].State with { BlockYaw = 0 });
        Assert.True(double.IsNaN(rows[1].State.BlockYaw)); // NaN is stored as NULL and read back as NaN
        Assert.Equal(1, reader.Info.SchemaVersion);       // an added optional table keeps the version
    }

    [Fact]
    public async Task A_file_without_the_sim_states_table_reads_summarises_and_exports()
    {
        using var dir = new TempDir();
        var path = await McapExportTests.RecordEpisode(dir.Path, new RawBgrFrameEncoder(), steps: 2);
        using (var c = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "DROP TABLE sim_states";
            cmd.ExecuteNonQuery();
        }

        using (var reader = EpisodeReader.Open(path))
        {
            Assert.False(reader.HasSimStates);
            Assert.Empty(reader.SimStates());
            Assert.Equal(0, reader.Count("sim_states"));
            Assert.NotNull(reader.LastTicks());
            Assert.Equal(2, EpisodeSummary.Of(reader).Steps);
            Assert.True(McapExporter.Export(reader, dir.File("old.mcap")).Messages > 0);
        }
        Assert.Equal(2, Hdf5Exporter.Export([path], dir.File("old.h5"), decoder: null).Rows);
        var (code, output, error) = Repo.Run(Repo.Python, "-c",
            "import h5py, numpy, sys; f = h5py.File(sys.argv[1], 'r'); print(f['sim_state'].shape, bool(numpy.isnan(f['sim_state'][:]).all()))",
            dir.File("old.h5"));
        Assert.True(code == 0, error);
        Assert.Equal("(2, 6) True", output.Trim());
    }

    [Fact]
    public async Task A_given_id_names_the_file_and_is_never_reused()
    {
        using var dir = new TempDir();
        var recorder = EpisodeRecorder.Create(dir.Path, RoundTripTests.Metadata(), new RawBgrFrameEncoder(), id: "ep-000001");
        await recorder.CompleteAsync(null);
        Assert.Equal("ep-000001", recorder.Id);
        var e = Assert.Throws<IOException>(() => EpisodeRecorder.Create(dir.Path, RoundTripTests.Metadata(), new RawBgrFrameEncoder(), id: "ep-000001"));
        Assert.Contains("already exists", e.Message);
        Assert.Throws<ArgumentException>(() => EpisodeRecorder.Create(dir.Path, RoundTripTests.Metadata(), new RawBgrFrameEncoder(), id: "../escape"));
    }

    [Fact]
    public async Task Frames_in_flight_counts_copies_not_yet_written()
    {
        using var dir = new TempDir();
        var recorder = EpisodeRecorder.Create(dir.Path, RoundTripTests.Metadata(), new RawBgrFrameEncoder());
        Assert.Equal(0, recorder.FramesInFlight);
        recorder.RecordFrame(0, RoundTripTests.TestFrame(8, 6, 0, 0));
        Assert.InRange(recorder.FramesInFlight, 0, 1);
        await recorder.CompleteAsync(null);
        Assert.Equal(0, recorder.FramesInFlight);
    }
}
