using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using RobotCtl.Core.Arm;

namespace RobotCtl.Episodes;

/// <summary>
/// Reads one episode file (finished, being recorded, or left behind by a killed process: every committed row is
/// readable). Enumerations stream rows in recording order; wrap them in a using/foreach, one at a time or several at once.
/// </summary>
public sealed class EpisodeReader : IDisposable
{
    private readonly SqliteConnection _connection;

    private readonly HashSet<string> _tables;

    /// <summary>The temporary folder of a crashed file read from a copy (see <see cref="OpenUnchanged"/>); removed on dispose.</summary>
    private readonly string? _copy;

    private EpisodeReader(string path, SqliteConnection connection, string? copy, EpisodeInfo info, HashSet<string> tables, EpisodeState state,
        FoldResult fold, string? notClosedCleanly)
    {
        Path = path;
        _connection = connection;
        _copy = copy;
        Info = info;
        _tables = tables;
        State = state;
        Fold = fold;
        NotClosedCleanly = notClosedCleanly;
    }

    public string Path { get; }
    public EpisodeInfo Info { get; }

    /// <summary>Finished, still recording (a live process holds the lock) or crashed, as of <see cref="Open"/>.</summary>
    public EpisodeState State { get; }

    /// <summary>What <see cref="Open(string, bool)"/> with fold did to a crashed file's write-ahead log.</summary>
    internal FoldResult Fold { get; }

    /// <summary>
    /// Null for a file its recorder closed (or is still recording). Otherwise what its dead recorder left behind, e.g.
    /// "its write-ahead log (-wal) is not folded into the file and its stale lock file is still there": the episode was
    /// read as it is, nothing changed, and <see cref="EpisodeRepair.Repair"/> makes it one self-contained file.
    /// </summary>
    public string? NotClosedCleanly { get; }

    /// <summary>
    /// Opens an episode for reading. Throws <see cref="EpisodeFormatException"/> ("not a robotctl episode: PATH: WHAT")
    /// for a missing file, a file that is not SQLite, a corrupt one, or one with another schema, and its subclass
    /// <see cref="EmptyEpisodeException"/> for a file whose recorder was stopped before it wrote anything.
    /// Reading changes nothing in the episode's folder, not even a crashed file's (left in WAL mode with its -wal, -shm
    /// and stale lock by a killed recorder): that is read as it is (<see cref="NotClosedCleanly"/> says so), and
    /// `episodes repair` is what folds it.
    /// </summary>
    public static EpisodeReader Open(string path) => Open(path, fold: false);

    /// <summary>
    /// <see cref="Open(string)"/>; with <paramref name="fold"/> (<see cref="EpisodeRepair"/> only), an episode nobody is
    /// recording that was left in WAL mode is first folded into its .sqlite file (checkpoint, journal_mode=DELETE, stale
    /// lock removed: <see cref="Fold"/>); if that cannot be done (read-only directory, another reader has it open) the
    /// file is read as it is.
    /// </summary>
    internal static EpisodeReader Open(string path, bool fold)
    {
        string Fail(string what) => $"not a robotctl episode: {path}: {what}";
        if (Directory.Exists(path)) throw new EpisodeFormatException(Fail("is a directory"));
        if (!File.Exists(path)) throw new EpisodeFormatException(Fail("file not found"));

        // Probe before reading: a recorder writes its end marker before it lets go of the lock, so "lock free, then no
        // end marker" can only mean it died; the other order could call a recording that just finished crashed.
        FoldResult folded;
        LockState lockState;
        byte[] header;
        using (var shared = EpisodeLock.Probe(path, out lockState))
        {
            header = ReadHeader(path);
            if (header.Length == 0) throw Empty(path, "0 bytes", lockState);
            if (header.Length < 100) throw new EpisodeFormatException(Fail($"not an SQLite database ({header.Length} bytes, smaller than an SQLite header)"));
            folded = fold && lockState != LockState.Held ? TryFold(path, header, lockState) : FoldResult.None;
        }

        // A WAL-mode file nobody records: an ordinary read-only connection would rebuild its -shm and could create a
        // -wal, so it is read in a way that writes nothing. A live recording is read alongside its writer as usual.
        var unchanged = lockState != LockState.Held && IsWal(header) && !folded.Folded;
        var leftovers = new List<string>();
        if (unchanged) leftovers.Add(new FileInfo(path + "-wal") is { Exists: true, Length: > 0 } ? "its write-ahead log (-wal) is not folded into the file" : "the file is still in WAL mode");
        if (lockState == LockState.Stale && !folded.LockRemoved) leftovers.Add($"its stale lock file {System.IO.Path.GetFileName(EpisodeLock.PathFor(path))} is still there");
        string? copy = null;
        SqliteConnection connection;
        try
        {
            connection = unchanged ? OpenUnchanged(path, out copy) : new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false,
            }.ToString());
        }
        catch (IOException e)
        {
            throw new EpisodeFormatException(Fail($"cannot read it without changing it ({e.Message})"), e);
        }
        try
        {
            connection.Open();
            var appId = Scalar<long>(connection, "PRAGMA application_id");
            // An episode's id and no tables yet: killed while being created. Id 0 too if the file is in WAL mode with no
            // tables at all: what older recorders (journal mode first) left; nothing in it either way.
            if ((appId == EpisodeSchema.ApplicationId || (appId == 0 && IsWal(header))) && Scalar<long>(connection, "SELECT count(*) FROM sqlite_master") == 0)
                throw Empty(path, appId == 0 ? "an empty SQLite database" : "no tables", lockState);
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
            // Older recorders committed the schema before the metadata: tables and no metadata is the same empty file.
            if (Scalar<long>(connection, "SELECT count(*) FROM metadata") == 0 &&
                tables.Where(t => t != "metadata").All(t => Scalar<long>(connection, $"SELECT count(*) FROM (SELECT 1 FROM \"{t}\" LIMIT 1)") == 0))
                throw Empty(path, "tables but no metadata", lockState);
            var info = ReadInfo(connection, path, version);
            var state = info.EndTicks is not null ? EpisodeState.Finished : lockState == LockState.Held ? EpisodeState.Recording : EpisodeState.Crashed;
            return new EpisodeReader(path, connection, copy, info, tables, state, folded, leftovers.Count == 0 ? null : string.Join(" and ", leftovers));
        }
        catch (SqliteException e)
        {
            Close(connection, copy);
            throw new EpisodeFormatException(Fail(Describe(e)), e);
        }
        catch (Exception e) when (e is FormatException or JsonException or InvalidCastException)
        {
            Close(connection, copy);
            throw new EpisodeFormatException(Fail($"bad metadata ({e.Message})"), e);
        }
        catch
        {
            Close(connection, copy);
            throw;
        }
    }

    /// <summary>
    /// A read-only connection to a WAL-mode file nobody is recording that writes nothing beside it (checked by hashing
    /// the folder before and after). With no WAL content the main file holds everything: immutable=1 (no locks, no
    /// -wal/-shm created). With WAL content and its -shm: readonly_shm=1, which never writes the -shm and rebuilds the
    /// WAL index in memory (a plain read-only connection rewrites the -shm of a dead writer). WAL content without a
    /// -shm (copied without it) cannot be read in place without creating one: the .sqlite and -wal are copied to a
    /// temporary folder (<paramref name="copy"/>), read there and deleted on dispose.
    /// </summary>
    private static SqliteConnection OpenUnchanged(string path, out string? copy)
    {
        copy = null;
        var wal = new FileInfo(path + "-wal");
        string source;
        if (!wal.Exists || wal.Length == 0) source = Uri(System.IO.Path.GetFullPath(path)) + "?immutable=1";
        else if (File.Exists(path + "-shm")) source = Uri(System.IO.Path.GetFullPath(path)) + "?readonly_shm=1";
        else
        {
            copy = Directory.CreateTempSubdirectory("robotctl-episode-").FullName;
            source = System.IO.Path.Combine(copy, System.IO.Path.GetFileName(path));
            try
            {
                File.Copy(path, source);
                File.Copy(wal.FullName, source + "-wal");
            }
            catch
            {
                Close(null, copy);
                throw;
            }
        }
        return new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = source, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
    }

    /// <summary>An SQLite URI filename for an absolute path: only %, ? and # need escaping.</summary>
    private static string Uri(string fullPath) => "file:" + fullPath.Replace("%", "%25").Replace("?", "%3f").Replace("#", "%23");

    private static void Close(SqliteConnection? connection, string? copy)
    {
        connection?.Dispose();
        if (copy is null) return;
        try { Directory.Delete(copy, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    private static EmptyEpisodeException Empty(string path, string what, LockState lockState) => lockState == LockState.Held
        ? new($"episode being created: {path}: its recorder has not written the schema yet ({what})", beingCreated: true)
        : new($"empty interrupted episode: {path}: the recording process stopped while creating it, before the schema and metadata " +
              $"were written ({what}); nothing was recorded (episodes repair deletes it)", beingCreated: false);

    /// <summary>The first 100 bytes (the SQLite header), fewer for a shorter file.</summary>
    private static byte[] ReadHeader(string path)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var header = new byte[Math.Min(100, f.Length)];
        f.ReadExactly(header);
        return header;
    }

    /// <summary>Header bytes 18-19 (file format read/write versions) are 2 in WAL mode.</summary>
    private static bool IsWal(byte[] header) => header.Length >= 100 && header[18] == 2 && header[19] == 2;

    /// <summary>What <see cref="TryFold"/> did.</summary>
    internal readonly record struct FoldResult(bool Folded, bool LockRemoved, string? Error)
    {
        public static readonly FoldResult None = new(false, false, null);
    }

    /// <summary>
    /// Makes an episode nobody is recording self-contained: copies its WAL into the .sqlite file and switches it to
    /// journal_mode=DELETE (SQLite removes the -wal and -shm), then removes a stale lock file. Only for files whose own
    /// header says episode and WAL, so a foreign database is never modified. SQLite's locks keep this safe even if a
    /// writer were alive after all: leaving WAL mode needs every other connection closed, else it fails (busy) and the
    /// file is left as it was. The caller holds the lock file shared (if there is one), so no recorder can take it.
    /// </summary>
    private static FoldResult TryFold(string path, byte[] header, LockState lockState)
    {
        var lockRemoved = lockState == LockState.Stale && EpisodeLock.RemoveStale(path);
        // Header bytes 68-71: the application id, big-endian.
        var ours = header.Length >= 100 && System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(68)) == EpisodeSchema.ApplicationId;
        if (!IsWal(header) || !ours) return new FoldResult(false, lockRemoved, null);
        try
        {
            using var c = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = path, Mode = SqliteOpenMode.ReadWrite, Pooling = false, DefaultTimeout = 1,
            }.ToString());
            c.Open();
            using var cmd = c.CreateCommand();
            // Opening ran SQLite's WAL recovery; copy every frame, then leave WAL mode (which removes the WAL).
            cmd.CommandText = "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;";
            string? mode = null;
            using (var r = cmd.ExecuteReader())
            {
                do { while (r.Read()) mode = r.GetValue(0)?.ToString(); } while (r.NextResult());
            }
            return mode == "delete"
                ? new FoldResult(true, lockRemoved, null)
                : new FoldResult(false, lockRemoved, $"the file stayed in journal mode {mode}");
        }
        catch (SqliteException e)
        {
            return new FoldResult(false, lockRemoved, Describe(e));
        }
    }

    /// <summary>PRAGMA quick_check: "ok", or the problems SQLite found (one per line).</summary>
    internal string QuickCheck() => Wrap(() =>
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "PRAGMA quick_check";
        using var r = cmd.ExecuteReader();
        var lines = new List<string>();
        while (r.Read()) lines.Add(r.GetString(0));
        return string.Join("\n", lines);
    });

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

    /// <summary>True when the file has the context-history tables (boundary_frames, plan_contexts); older files do not.</summary>
    public bool HasPlanContexts => _tables.Contains("plan_contexts") && _tables.Contains("boundary_frames");

    /// <summary>
    /// Frames captured at block boundaries while a chunk ran (<see cref="EpisodeRecorder.RecordBoundaryFrame"/>); empty
    /// for a file without the table.
    /// </summary>
    public IEnumerable<BoundaryFrameRow> BoundaryFrames() => _tables.Contains("boundary_frames")
        ? Query("SELECT step,t_ticks,boundary,serial,capture_ticks,sequence,width,height,format,data,latent_shape,latent,state FROM boundary_frames ORDER BY id",
            r => new BoundaryFrameRow(r.GetInt64(0), r.GetInt64(1), r.GetInt32(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5), r.GetInt32(6), r.GetInt32(7),
                r.GetString(8), Bytes(r, 9), ShapeOf(r.GetString(10)), Floats(r, 11), Floats(r, 12)))
        : [];

    /// <summary>
    /// The observed context of each plan that had one recorded (<see cref="EpisodeRecorder.RecordPlanContext"/>); empty
    /// for a file without the table (every plan then had the single frame of its step).
    /// </summary>
    public IEnumerable<PlanContextRow> PlanContexts() => _tables.Contains("plan_contexts")
        ? Query("SELECT step,t_ticks,frames,frame_steps,frame_boundaries,serials,latent_shape,action_block,action_dim,state_dim,latents,past_actions,states FROM plan_contexts ORDER BY id",
            r => new PlanContextRow(r.GetInt64(0), r.GetInt64(1), r.GetInt32(2), LongsOf(r.GetString(3)), ShapeOf(r.GetString(4)), LongsOf(r.GetString(5)),
                ShapeOf(r.GetString(6)), r.GetInt32(7), r.GetInt32(8), r.GetInt32(9), Floats(r, 10), Floats(r, 11), Floats(r, 12)))
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

    private static long[] LongsOf(string json) => JsonSerializer.Deserialize(json, EpisodeJsonContext.Default.Int64Array) ?? [];

    private static T Scalar<T>(SqliteConnection connection, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        return (T)Convert.ChangeType(cmd.ExecuteScalar()!, typeof(T), CultureInfo.InvariantCulture);
    }

    public void Dispose() => Close(_connection, _copy);
}
