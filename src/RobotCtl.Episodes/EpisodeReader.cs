using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using RobotCtl.Core.Arm;

namespace RobotCtl.Episodes;

/// <summary>A file that is not a readable robotctl episode. The message names the file and what is wrong.</summary>
public sealed class EpisodeFormatException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Reads one episode file (finished, or left behind by a killed process: every committed row is readable).
/// Enumerations stream rows in recording order; wrap them in a using/foreach, one at a time or several at once.
/// </summary>
public sealed class EpisodeReader : IDisposable
{
    private readonly SqliteConnection _connection;

    private readonly HashSet<string> _tables;

    private EpisodeReader(string path, SqliteConnection connection, EpisodeInfo info, HashSet<string> tables)
    {
        Path = path;
        _connection = connection;
        Info = info;
        _tables = tables;
    }

    public string Path { get; }
    public EpisodeInfo Info { get; }

    /// <summary>
    /// Opens an episode read-only. Throws <see cref="EpisodeFormatException"/> ("not a robotctl episode: PATH: WHAT")
    /// for a missing file, a file that is not SQLite, a corrupt one, or one with another schema.
    /// </summary>
    public static EpisodeReader Open(string path)
    {
        string Fail(string what) => $"not a robotctl episode: {path}: {what}";
        if (Directory.Exists(path)) throw new EpisodeFormatException(Fail("is a directory"));
        if (!File.Exists(path)) throw new EpisodeFormatException(Fail("file not found"));
        var length = new FileInfo(path).Length;
        if (length < 100) throw new EpisodeFormatException(Fail($"not an SQLite database ({length} bytes, smaller than an SQLite header)"));

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false,
        }.ToString());
        try
        {
            connection.Open();
            var appId = Scalar<long>(connection, "PRAGMA application_id");
            if (appId != EpisodeSchema.ApplicationId)
                throw new EpisodeFormatException(Fail($"an SQLite database, but not an episode (application_id 0x{appId:x8}, expected 0x{EpisodeSchema.ApplicationId:x8})"));
            var version = (int)Scalar<long>(connection, "PRAGMA user_version");
            if (version != EpisodeSchema.Version)
                throw new EpisodeFormatException(Fail($"schema version {version}, this robotctl reads version {EpisodeSchema.Version}"));
            var tables = new HashSet<string>();
            using (var cmd = connection.CreateCommand())
            {
                cmd.CommandText = "SELECT name FROM sqlite_master WHERE type='table'";
                using var r = cmd.ExecuteReader();
                while (r.Read()) tables.Add(r.GetString(0));
            }
            var missing = EpisodeSchema.Tables.Where(t => !tables.Contains(t)).ToArray();
            if (missing.Length > 0) throw new EpisodeFormatException(Fail($"missing table(s) {string.Join(", ", missing)}"));
            var info = ReadInfo(connection, path, version);
            return new EpisodeReader(path, connection, info, tables);
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new EpisodeFormatException(Fail(Describe(e)), e);
        }
        catch (Exception e) when (e is FormatException or JsonException or InvalidCastException)
        {
            connection.Dispose();
            throw new EpisodeFormatException(Fail($"bad metadata ({e.Message})"), e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static string Describe(SqliteException e) => e.SqliteErrorCode switch
    {
        26 => "not an SQLite database (file is not a database)",
        11 => $"corrupt SQLite file ({e.Message.Replace("SQLite Error 11: ", "")})",
        _ => e.Message,
    };

    private static EpisodeInfo ReadInfo(SqliteConnection connection, string path, int version)
    {
        var m = new Dictionary<string, string?>();
        using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = "SELECT key, value FROM metadata";
            using var r = cmd.ExecuteReader();
            while (r.Read()) m[r.GetString(0)] = r.IsDBNull(1) ? null : r.GetString(1);
        }
        string Required(string key) => m.TryGetValue(key, out var v) && v is not null ? v : throw new FormatException($"metadata '{key}' is missing");
        string? Optional(string key) => m.GetValueOrDefault(key);
        long? OptionalLong(string key) => Optional(key) is { } s ? long.Parse(s, CultureInfo.InvariantCulture) : null;
        DateTimeOffset? OptionalTime(string key) => Optional(key) is { } s ? DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal) : null;
        return new EpisodeInfo
        {
            Id = Optional("episode_id") ?? System.IO.Path.GetFileNameWithoutExtension(path),
            Path = path,
            SchemaVersion = version,
            Source = Required("source"),
            Model = Optional("model"),
            Calibration = Optional("calibration"),
            ConfigurationJson = Optional("configuration"),
            RobotctlVersion = Required("robotctl_version"),
            StartTimeUtc = OptionalTime("start_time_utc") ?? throw new FormatException("metadata 'start_time_utc' is missing"),
            Seed = OptionalLong("seed"),
            Goals = JsonSerializer.Deserialize(Optional("goals") ?? "[]", EpisodeJsonContext.Default.StringArray) ?? [],
            TickFrequency = long.Parse(Required("tick_frequency"), CultureInfo.InvariantCulture),
            StartTicks = long.Parse(Required("start_ticks"), CultureInfo.InvariantCulture),
            EndTimeUtc = OptionalTime("end_time_utc"),
            EndTicks = OptionalLong("end_ticks"),
            Success = Optional("success") switch { "1" => true, "0" => false, _ => null },
            Outcome = Optional("outcome"),
            DroppedRecords = OptionalLong("dropped_records"),
        };
    }

    public IEnumerable<StepRow> Steps() => Query(
        "SELECT step,t_ticks,capture_ms,preprocess_ms,encode_ms,plan_ms,send_ms,record_ms,total_ms FROM timings ORDER BY id",
        r => new StepRow(r.GetInt64(0), r.GetInt64(1), new StepTimings(
            D(r, 2), D(r, 3), D(r, 4), D(r, 5), D(r, 6), D(r, 7), D(r, 8))));

    public IEnumerable<FrameRow> Frames() => Query(
        "SELECT step,t_ticks,capture_ticks,sequence,width,height,format,data FROM frames ORDER BY id",
        r => new FrameRow(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt32(4), r.GetInt32(5), r.GetString(6), Bytes(r, 7)));

    public IEnumerable<GoalImageRow> GoalImages() => Query(
        "SELECT goal_index,t_ticks,capture_ticks,width,height,format,data FROM goal_images ORDER BY goal_index, id",
        r => new GoalImageRow(r.GetInt32(0), r.GetInt64(1), r.GetInt64(2), r.GetInt32(3), r.GetInt32(4), r.GetString(5), Bytes(r, 6)));

    public IEnumerable<LatentRow> Latents() => Query(
        "SELECT step,t_ticks,kind,shape,data FROM latents ORDER BY id",
        r => new LatentRow(r.GetInt64(0), r.GetInt64(1), EpisodeSchema.ParseLatentKind(r.GetString(2)), ShapeOf(r.GetString(3)), Floats(r, 4)));

    public IEnumerable<PlanRow> Plans() => Query(
        "SELECT step,t_ticks,planner,settings,seed,iterations,deadline_ms,elapsed_ms,final_cost,costs,chunk_shape,chunk FROM plans ORDER BY id",
        r => new PlanRow(r.GetInt64(0), r.GetInt64(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.GetInt64(4), r.GetInt32(5),
            D(r, 6), D(r, 7), (float)D(r, 8), Floats(r, 9), ShapeOf(r.GetString(10)), Floats(r, 11)));

    public IEnumerable<CommandRow> Commands() => Query(
        "SELECT step,t_ticks,req_dx,req_dy,req_dz,req_droll,req_dpitch,req_dyaw,req_gripper,dx,dy,dz,droll,dpitch,dyaw,gripper,clamped_axes,reason FROM commands ORDER BY id",
        r => new CommandRow(r.GetInt64(0), r.GetInt64(1), Command(r, 2), Command(r, 9), r.GetInt32(16), r.IsDBNull(17) ? null : r.GetString(17)));

    public IEnumerable<ArmStateRow> ArmStates() => Query(
        "SELECT step,t_ticks,x,y,z,roll,pitch,yaw,gripper,state_ticks,sequence FROM arm_states ORDER BY id",
        r => new ArmStateRow(r.GetInt64(0), r.GetInt64(1), new ArmState(
            D(r, 2), D(r, 3), D(r, 4), D(r, 5), D(r, 6), D(r, 7), D(r, 8), r.GetInt64(9), (uint)r.GetInt64(10))));

    /// <summary>True when the file has the sim_states table (files written before it was added do not).</summary>
    public bool HasSimStates => _tables.Contains("sim_states");

    /// <summary>The sim's true states (<see cref="EpisodeRecorder.RecordSimState(long, in SimStateSample)"/>); empty for a file without the table.</summary>
    public IEnumerable<SimStateRow> SimStates() => HasSimStates
        ? Query("SELECT step,t_ticks,ee_x,ee_y,ee_z,block_x,block_y,block_yaw FROM sim_states ORDER BY id",
            r => new SimStateRow(r.GetInt64(0), r.GetInt64(1), new SimStateSample(D(r, 2), D(r, 3), D(r, 4), D(r, 5), D(r, 6), D(r, 7))))
        : [];

    public IEnumerable<SurpriseRow> Surprises() => Query(
        "SELECT step,t_ticks,value FROM surprise ORDER BY id",
        r => new SurpriseRow(r.GetInt64(0), r.GetInt64(1), (float)D(r, 2)));

    public IEnumerable<EventRow> Events() => Query(
        "SELECT step,t_ticks,kind,message,count FROM events ORDER BY id",
        r => new EventRow(r.GetInt64(0), r.GetInt64(1), EpisodeSchema.ParseEventKind(r.GetString(2)), r.GetString(3), r.GetInt64(4)));

    /// <summary>Row count of one of the episode's tables (see README for names); 0 for an optional table the file lacks.</summary>
    public long Count(string table)
    {
        if (!EpisodeSchema.Tables.Contains(table) && !EpisodeSchema.OptionalTables.Contains(table))
            throw new ArgumentException($"unknown table '{table}'", nameof(table));
        if (!_tables.Contains(table)) return 0;
        return Wrap(() => Scalar<long>(_connection, $"SELECT count(*) FROM {table}"));
    }

    /// <summary>The latest t_ticks over all step rows (the end of a crashed episode).</summary>
    public long? LastTicks() => Wrap(() =>
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = string.Join(" UNION ALL ", EpisodeSchema.Tables.Concat(EpisodeSchema.OptionalTables).Where(t => t != "metadata" && _tables.Contains(t)).Select(t => $"SELECT max(t_ticks) FROM {t}"));
        using var r = cmd.ExecuteReader();
        long? max = null;
        while (r.Read()) if (!r.IsDBNull(0)) max = Math.Max(max ?? long.MinValue, r.GetInt64(0));
        return max;
    });

    private IEnumerable<T> Query<T>(string sql, Func<SqliteDataReader, T> map)
    {
        SqliteCommand cmd;
        SqliteDataReader reader;
        try
        {
            cmd = _connection.CreateCommand();
            cmd.CommandText = sql;
            reader = cmd.ExecuteReader();
        }
        catch (SqliteException e) { throw Corrupt(e); }
        using (cmd)
        using (reader)
        {
            while (true)
            {
                T row;
                try
                {
                    if (!reader.Read()) yield break;
                    row = map(reader);
                }
                catch (SqliteException e) { throw Corrupt(e); }
                catch (FormatException e) { throw new EpisodeFormatException($"episode {Path}: bad row: {e.Message}", e); }
                yield return row;
            }
        }
    }

    private T Wrap<T>(Func<T> f)
    {
        try { return f(); }
        catch (SqliteException e) { throw Corrupt(e); }
    }

    private EpisodeFormatException Corrupt(SqliteException e) => new($"not a robotctl episode: {Path}: {Describe(e)}", e);

    private static double D(SqliteDataReader r, int i) => r.IsDBNull(i) ? double.NaN : r.GetDouble(i);

    private static EeCommand Command(SqliteDataReader r, int i) =>
        new((float)D(r, i), (float)D(r, i + 1), (float)D(r, i + 2), (float)D(r, i + 3), (float)D(r, i + 4), (float)D(r, i + 5), (float)D(r, i + 6));

    private static byte[] Bytes(SqliteDataReader r, int i) => r.IsDBNull(i) ? [] : (byte[])r.GetValue(i);

    private static float[] Floats(SqliteDataReader r, int i)
    {
        var bytes = Bytes(r, i);
        if (bytes.Length % 4 != 0) throw new FormatException($"a float32 blob of {bytes.Length} bytes is not a multiple of 4");
        return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }

    private static int[] ShapeOf(string json) => JsonSerializer.Deserialize(json, EpisodeJsonContext.Default.Int32Array) ?? [];

    private static T Scalar<T>(SqliteConnection connection, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        return (T)Convert.ChangeType(cmd.ExecuteScalar()!, typeof(T), CultureInfo.InvariantCulture);
    }

    public void Dispose() => _connection.Dispose();
}
