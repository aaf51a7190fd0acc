using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using RobotCtl.Core.Arm;
using RobotCtl.Core.Vision;

namespace RobotCtl.Episodes;

/// <summary>
/// The write side of one episode file: a single connection with prepared inserts. Used only by the recorder task.
/// Blobs are written through <see cref="SqliteBlob"/> from spans, so no byte[] is allocated per row.
/// </summary>
internal sealed class EpisodeStore : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _frame, _goal, _latent, _plan, _command, _state, _surprise, _timing, _event, _meta, _simState, _checkpoint,
        _boundaryFrame, _planContext;
    private SqliteTransaction? _tx;

    private EpisodeStore(SqliteConnection connection)
    {
        _connection = connection;
        _frame = Prepare("INSERT INTO frames(step,t_ticks,capture_ticks,sequence,width,height,format,data) VALUES($a,$b,$c,$d,$e,$f,$g,zeroblob($h))", 8);
        _goal = Prepare("INSERT INTO goal_images(goal_index,step,t_ticks,capture_ticks,width,height,format,data) VALUES($a,$b,$c,$d,$e,$f,$g,zeroblob($h))", 8);
        _latent = Prepare("INSERT INTO latents(step,t_ticks,kind,shape,data) VALUES($a,$b,$c,$d,zeroblob($e))", 5);
        _plan = Prepare("INSERT INTO plans(step,t_ticks,planner,settings,seed,iterations,deadline_ms,elapsed_ms,final_cost,costs,chunk_shape,chunk) " +
                        "VALUES($a,$b,$c,$d,$e,$f,$g,$h,$i,zeroblob($j),$k,zeroblob($l))", 12);
        _command = Prepare("INSERT INTO commands(step,t_ticks,req_dx,req_dy,req_dz,req_droll,req_dpitch,req_dyaw,req_gripper," +
                           "dx,dy,dz,droll,dpitch,dyaw,gripper,clamped_axes,reason) VALUES($a,$b,$c,$d,$e,$f,$g,$h,$i,$j,$k,$l,$m,$n,$o,$p,$q,$r)", 18);
        _state = Prepare("INSERT INTO arm_states(step,t_ticks,x,y,z,roll,pitch,yaw,gripper,state_ticks,sequence) VALUES($a,$b,$c,$d,$e,$f,$g,$h,$i,$j,$k)", 11);
        _surprise = Prepare("INSERT INTO surprise(step,t_ticks,value) VALUES($a,$b,$c)", 3);
        _timing = Prepare("INSERT INTO timings(step,t_ticks,capture_ms,preprocess_ms,encode_ms,plan_ms,send_ms,record_ms,total_ms) VALUES($a,$b,$c,$d,$e,$f,$g,$h,$i)", 9);
        _event = Prepare("INSERT INTO events(step,t_ticks,kind,message,count) VALUES($a,$b,$c,$d,$e)", 5);
        _meta = Prepare("INSERT OR REPLACE INTO metadata(key,value) VALUES($a,$b)", 2);
        _simState = Prepare("INSERT INTO sim_states(step,t_ticks,ee_x,ee_y,ee_z,block_x,block_y,block_yaw) VALUES($a,$b,$c,$d,$e,$f,$g,$h)", 8);
        _checkpoint = Prepare("PRAGMA wal_checkpoint(PASSIVE)", 0);
        _boundaryFrame = Prepare("INSERT INTO boundary_frames(step,t_ticks,boundary,serial,capture_ticks,sequence,width,height,format,data,latent_shape,latent,state) " +
                                 "VALUES($a,$b,$c,$d,$e,$f,$g,$h,$i,zeroblob($j),$k,zeroblob($l),zeroblob($m))", 13);
        _planContext = Prepare("INSERT INTO plan_contexts(step,t_ticks,frames,frame_steps,frame_boundaries,serials,latent_shape,action_block,action_dim,state_dim," +
                               "latents,past_actions,states) VALUES($a,$b,$c,$d,$e,$f,$g,$h,$i,$j,zeroblob($k),zeroblob($l),zeroblob($m))", 13);
    }

    /// <summary>Test hook: called with (stage, path) at each step of <see cref="Create"/> ("opened", "application_id", "schema").</summary>
    internal static Action<string, string>? CreationStage;

    public static EpisodeStore Create(string path, EpisodeMetadata metadata, bool fullSync)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false,
        }.ToString());
        try
        {
            connection.Open();
            CreationStage?.Invoke("opened", path);
            // The application id goes in first, on its own (rollback journal, atomic): from its first page the file says it
            // is an episode, so one killed before its schema is known as an empty interrupted episode, not a foreign database.
            Execute(connection, $"PRAGMA application_id = {EpisodeSchema.ApplicationId};");
            CreationStage?.Invoke("application_id", path);
            // WAL: a commit is one append to the -wal file, and a killed process leaves every committed
            // transaction readable. NORMAL sync survives a process crash; FULL also survives power loss.
            Execute(connection, $"PRAGMA journal_mode=WAL; PRAGMA synchronous={(fullSync ? "FULL" : "NORMAL")};");
            var store = new EpisodeStore(connection);
            // Schema and metadata in one transaction: a file never has tables without its metadata.
            store.Begin();
            EpisodeSchema.Create(connection, store._tx!);
            store.WriteMetadata(metadata);
            store.Commit();
            CreationStage?.Invoke("schema", path);
            // Into the main file at once, so the .sqlite alone is a valid (empty) episode even if the process dies now.
            Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE);");
            return store;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private void WriteMetadata(EpisodeMetadata m)
    {
        SetMetadata("episode_id", Path.GetFileNameWithoutExtension(_connection.DataSource));
        SetMetadata("source", m.Source);
        SetMetadata("model", m.Model);
        SetMetadata("calibration", m.Calibration);
        SetMetadata("configuration", m.ConfigurationJson);
        SetMetadata("robotctl_version", m.RobotctlVersion);
        SetMetadata("start_time_utc", m.StartTimeUtc.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        SetMetadata("seed", m.Seed?.ToString(CultureInfo.InvariantCulture));
        SetMetadata("goals", JsonSerializer.Serialize(m.Goals.ToArray(), EpisodeJsonContext.Default.StringArray));
        SetMetadata("tick_frequency", System.Diagnostics.Stopwatch.Frequency.ToString(CultureInfo.InvariantCulture));
        SetMetadata("start_ticks", Core.Timing.MonotonicClock.Now.ToString(CultureInfo.InvariantCulture));
    }

    public void SetMetadata(string key, string? value)
    {
        _meta.Transaction = _tx;
        _meta.Parameters[0].Value = key;
        _meta.Parameters[1].Value = (object?)value ?? DBNull.Value;
        _meta.ExecuteNonQuery();
    }

    public bool InTransaction => _tx is not null;

    public void Begin() => _tx = _connection.BeginTransaction(deferred: false);

    public void Commit()
    {
        _tx?.Commit();
        _tx?.Dispose();
        _tx = null;
    }

    public void InsertFrame(long step, long ticks, Frame frame, string format, ReadOnlySpan<byte> data) =>
        InsertImage(_frame, step, ticks, frame.CaptureTicks, frame.Sequence, frame, format, data, "frames");

    public void InsertGoalImage(int goalIndex, long step, long ticks, Frame frame, string format, ReadOnlySpan<byte> data) =>
        InsertImage(_goal, goalIndex, step, ticks, frame.CaptureTicks, frame, format, data, "goal_images");

    private void InsertImage(SqliteCommand cmd, long a, long b, long c, long d, Frame frame, string format, ReadOnlySpan<byte> data, string table)
    {
        Bind(cmd, a, b, c, d, frame.Width, frame.Height, format, data.Length);
        cmd.ExecuteNonQuery();
        WriteBlob(table, "data", data);
    }

    public void InsertLatent(long step, long ticks, LatentKind kind, string shapeJson, ReadOnlySpan<float> values)
    {
        var bytes = MemoryMarshal.AsBytes(values);
        Bind(_latent, step, ticks, EpisodeSchema.KindName(kind), shapeJson, bytes.Length);
        _latent.ExecuteNonQuery();
        WriteBlob("latents", "data", bytes);
    }

    public void InsertPlan(long step, long ticks, string planner, string? settings, long seed, int iterations, double deadlineMs,
        double elapsedMs, float finalCost, ReadOnlySpan<float> costs, string chunkShapeJson, ReadOnlySpan<float> chunk)
    {
        var costBytes = MemoryMarshal.AsBytes(costs);
        var chunkBytes = MemoryMarshal.AsBytes(chunk);
        Bind(_plan, step, ticks, planner, settings, seed, iterations, deadlineMs, elapsedMs, finalCost, costBytes.Length, chunkShapeJson, chunkBytes.Length);
        _plan.ExecuteNonQuery();
        var rowId = SQLitePCL.raw.sqlite3_last_insert_rowid(_connection.Handle);
        WriteBlob("plans", "costs", costBytes, rowId);
        WriteBlob("plans", "chunk", chunkBytes, rowId);
    }

    public void InsertCommand(long step, long ticks, in EeCommand requested, in EeCommand sent, int clampedAxes, string? reason)
    {
        var p = _command.Parameters;
        p[0].Value = step; p[1].Value = ticks;
        for (var i = 0; i < EeCommand.Dim; i++) p[2 + i].Value = Real(requested[i]);
        for (var i = 0; i < EeCommand.Dim; i++) p[9 + i].Value = Real(sent[i]);
        p[16].Value = clampedAxes;
        p[17].Value = (object?)reason ?? DBNull.Value;
        Run(_command);
    }

    public void InsertArmState(long step, long ticks, in ArmState s)
    {
        Bind(_state, step, ticks, s.X, s.Y, s.Z, s.Roll, s.Pitch, s.Yaw, s.Gripper, s.TimestampTicks, (long)s.Sequence);
        Run(_state);
    }

    public void InsertSimState(long step, long ticks, in SimStateSample s)
    {
        Bind(_simState, step, ticks, s.EeX, s.EeY, s.EeZ, s.BlockX, s.BlockY, s.BlockYaw);
        Run(_simState);
    }

    public void InsertSurprise(long step, long ticks, float value)
    {
        Bind(_surprise, step, ticks, (double)value);
        Run(_surprise);
    }

    public void InsertTimings(long step, long ticks, in StepTimings t)
    {
        Bind(_timing, step, ticks, t.CaptureMs, t.PreprocessMs, t.EncodeMs, t.PlanMs, t.PublishMs, t.RecordMs, t.TotalMs);
        Run(_timing);
    }

    public void InsertBoundaryFrame(long step, long ticks, int boundary, long serial, Frame frame, string format, ReadOnlySpan<byte> data,
        string latentShapeJson, ReadOnlySpan<float> latent, ReadOnlySpan<float> state)
    {
        var latentBytes = MemoryMarshal.AsBytes(latent);
        var stateBytes = MemoryMarshal.AsBytes(state);
        Bind(_boundaryFrame, step, ticks, boundary, serial, frame.CaptureTicks, frame.Sequence, frame.Width, frame.Height, format, data.Length,
            latentShapeJson, latentBytes.Length, stateBytes.Length);
        _boundaryFrame.ExecuteNonQuery();
        var rowId = SQLitePCL.raw.sqlite3_last_insert_rowid(_connection.Handle);
        WriteBlob("boundary_frames", "data", data, rowId);
        WriteBlob("boundary_frames", "latent", latentBytes, rowId);
        WriteBlob("boundary_frames", "state", stateBytes, rowId);
    }

    public void InsertPlanContext(long step, long ticks, int frames, ReadOnlySpan<long> frameSteps, ReadOnlySpan<long> frameBoundaries,
        ReadOnlySpan<long> serials, string latentShapeJson, int actionBlock, int actionDim, int stateDim,
        ReadOnlySpan<float> latents, ReadOnlySpan<float> pastActions, ReadOnlySpan<float> states)
    {
        var latentBytes = MemoryMarshal.AsBytes(latents);
        var actionBytes = MemoryMarshal.AsBytes(pastActions);
        var stateBytes = MemoryMarshal.AsBytes(states);
        Bind(_planContext, step, ticks, frames, Json(frameSteps), Json(frameBoundaries), Json(serials), latentShapeJson, actionBlock, actionDim, stateDim,
            latentBytes.Length, actionBytes.Length, stateBytes.Length);
        _planContext.ExecuteNonQuery();
        var rowId = SQLitePCL.raw.sqlite3_last_insert_rowid(_connection.Handle);
        WriteBlob("plan_contexts", "latents", latentBytes, rowId);
        WriteBlob("plan_contexts", "past_actions", actionBytes, rowId);
        WriteBlob("plan_contexts", "states", stateBytes, rowId);
    }

    private static string Json(ReadOnlySpan<long> values) => JsonSerializer.Serialize(values.ToArray(), EpisodeJsonContext.Default.Int64Array);

    public void InsertEvent(long step, long ticks, EpisodeEventKind kind, string message, long count)
    {
        Bind(_event, step, ticks, EpisodeSchema.KindName(kind), message, count);
        Run(_event);
    }

    /// <summary>
    /// Copies the committed WAL frames into the main file without waiting for anyone (PASSIVE), so that the .sqlite
    /// file alone holds them. True when every frame made it (a reader on an older snapshot can hold some back).
    /// </summary>
    public bool Checkpoint()
    {
        using var r = _checkpoint.ExecuteReader();
        // (busy, frames in the log, frames checkpointed); -1, -1 when not in WAL mode.
        return r.Read() && r.GetInt64(0) == 0 && r.GetInt64(1) == r.GetInt64(2);
    }

    /// <summary>Leaves a finished episode as one self-contained file (no -wal/-shm beside it).</summary>
    public void FinishFile()
    {
        Commit();
        try
        {
            using var cmd = _connection.CreateCommand();
            cmd.CommandText = "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;";
            cmd.CommandTimeout = 2; // retried while busy: a reader's query usually ends well within this
            cmd.ExecuteNonQuery();
        }
        catch (SqliteException e) when (e.SqliteErrorCode is 5 or 6)
        {
            // Busy: a reader (episodes show) has the file open. The end marker is committed and the file is valid;
            // readers read it as it is, and `episodes repair` folds the WAL in (EpisodeRepair).
        }
    }

    private void Run(SqliteCommand cmd)
    {
        cmd.Transaction = _tx;
        cmd.ExecuteNonQuery();
    }

    private void Bind(SqliteCommand cmd, params ReadOnlySpan<object?> values)
    {
        cmd.Transaction = _tx;
        for (var i = 0; i < values.Length; i++) cmd.Parameters[i].Value = values[i] switch
        {
            double d => Real(d),
            float f => Real(f),
            null => DBNull.Value,
            var v => v,
        };
    }

    /// <summary>SQLite has no NaN (Microsoft.Data.Sqlite refuses it): NaN is stored as NULL and read back as NaN.</summary>
    private static object Real(double value) => double.IsNaN(value) ? DBNull.Value : value;

    private void WriteBlob(string table, string column, ReadOnlySpan<byte> data) =>
        WriteBlob(table, column, data, SQLitePCL.raw.sqlite3_last_insert_rowid(_connection.Handle));

    private void WriteBlob(string table, string column, ReadOnlySpan<byte> data, long rowId)
    {
        if (data.IsEmpty) return;
        using var blob = new SqliteBlob(_connection, table, column, rowId);
        blob.Write(data);
    }

    private SqliteCommand Prepare(string sql, int parameterCount)
    {
        var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        for (var i = 0; i < parameterCount; i++) cmd.Parameters.Add(new SqliteParameter("$" + (char)('a' + i), DBNull.Value));
        return cmd;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _tx?.Dispose();
        foreach (var c in new[] { _frame, _goal, _latent, _plan, _command, _state, _surprise, _timing, _event, _meta, _simState, _checkpoint, _boundaryFrame, _planContext }) c.Dispose();
        _connection.Dispose();
    }
}
