using Microsoft.Data.Sqlite;

namespace RobotCtl.Episodes;

/// <summary>
/// The SQLite schema of an episode file (documented in README.md). Bump <see cref="Version"/> on any change an older
/// reader would misread; a table added later that older files lack (<see cref="OptionalTables"/>) keeps the version:
/// readers ignore tables they do not know, and treat a missing optional table as empty.
/// </summary>
internal static class EpisodeSchema
{
    public const int Version = 1;

    // REAL columns are nullable on purpose: SQLite stores NaN as NULL (a failed plan's cost is NaN); readers map NULL back to NaN.

    /// <summary>PRAGMA application_id: "RCEP" — tells an episode from any other SQLite file.</summary>
    public const int ApplicationId = 0x52434550;

    public const string FileExtension = ".sqlite";

    public static readonly string[] Tables =
        ["metadata", "frames", "goal_images", "latents", "plans", "commands", "arm_states", "surprise", "timings", "events"];

    /// <summary>Tables created in every new file but absent from files written before they were added.</summary>
    public static readonly string[] OptionalTables = ["sim_states", "boundary_frames", "plan_contexts"];

    private const string Ddl = """
        CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT);
        CREATE TABLE frames (id INTEGER PRIMARY KEY, step INTEGER NOT NULL, t_ticks INTEGER NOT NULL,
            capture_ticks INTEGER NOT NULL, sequence INTEGER NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,
            format TEXT NOT NULL, data BLOB NOT NULL);
        CREATE TABLE goal_images (id INTEGER PRIMARY KEY, goal_index INTEGER NOT NULL, step INTEGER NOT NULL,
            t_ticks INTEGER NOT NULL, capture_ticks INTEGER NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,
            format TEXT NOT NULL, data BLOB NOT NULL);
        CREATE TABLE latents (id INTEGER PRIMARY KEY, step INTEGER NOT NULL, t_ticks INTEGER NOT NULL,
            kind TEXT NOT NULL, shape TEXT NOT NULL, data BLOB NOT NULL);
        CREATE TABLE plans (id INTEGER PRIMARY KEY, step INTEGER NOT NULL, t_ticks INTEGER NOT NULL,
            planner TEXT NOT NULL, settings TEXT, seed INTEGER NOT NULL, iterations INTEGER NOT NULL,
            deadline_ms REAL, elapsed_ms REAL, final_cost REAL,
            costs BLOB NOT NULL, chunk_shape TEXT NOT NULL, chunk BLOB NOT NULL);
        CREATE TABLE commands (id INTEGER PRIMARY KEY, step INTEGER NOT NULL, t_ticks INTEGER NOT NULL,
            req_dx REAL, req_dy REAL, req_dz REAL, req_droll REAL, req_dpitch REAL, req_dyaw REAL, req_gripper REAL,
            dx REAL, dy REAL, dz REAL, droll REAL, dpitch REAL, dyaw REAL, gripper REAL,
            clamped_axes INTEGER NOT NULL, reason TEXT);
        CREATE TABLE arm_states (id INTEGER PRIMARY KEY, step INTEGER NOT NULL, t_ticks INTEGER NOT NULL,
            x REAL, y REAL, z REAL, roll REAL, pitch REAL, yaw REAL, gripper REAL,
            state_ticks INTEGER NOT NULL, sequence INTEGER NOT NULL);
        CREATE TABLE surprise (id INTEGER PRIMARY KEY, step INTEGER NOT NULL, t_ticks INTEGER NOT NULL, value REAL);
        CREATE TABLE timings (id INTEGER PRIMARY KEY, step INTEGER NOT NULL, t_ticks INTEGER NOT NULL,
            capture_ms REAL, preprocess_ms REAL, encode_ms REAL, plan_ms REAL, send_ms REAL, record_ms REAL, total_ms REAL);
        CREATE TABLE events (id INTEGER PRIMARY KEY, step INTEGER NOT NULL, t_ticks INTEGER NOT NULL,
            kind TEXT NOT NULL, message TEXT NOT NULL, count INTEGER NOT NULL DEFAULT 1);
        CREATE TABLE sim_states (id INTEGER PRIMARY KEY, step INTEGER NOT NULL, t_ticks INTEGER NOT NULL,
            ee_x REAL, ee_y REAL, ee_z REAL, block_x REAL, block_y REAL, block_yaw REAL);
        CREATE TABLE boundary_frames (id INTEGER PRIMARY KEY, step INTEGER NOT NULL, t_ticks INTEGER NOT NULL,
            boundary INTEGER NOT NULL, serial INTEGER NOT NULL, capture_ticks INTEGER NOT NULL, sequence INTEGER NOT NULL,
            width INTEGER NOT NULL, height INTEGER NOT NULL, format TEXT NOT NULL, data BLOB NOT NULL,
            latent_shape TEXT NOT NULL, latent BLOB NOT NULL, state BLOB NOT NULL);
        CREATE TABLE plan_contexts (id INTEGER PRIMARY KEY, step INTEGER NOT NULL, t_ticks INTEGER NOT NULL,
            frames INTEGER NOT NULL, frame_steps TEXT NOT NULL, frame_boundaries TEXT NOT NULL, serials TEXT NOT NULL,
            latent_shape TEXT NOT NULL, action_block INTEGER NOT NULL, action_dim INTEGER NOT NULL, state_dim INTEGER NOT NULL,
            latents BLOB NOT NULL, past_actions BLOB NOT NULL, states BLOB NOT NULL);
        """;

    /// <summary>Creates the tables and sets the version inside the caller's transaction (committed with the metadata).</summary>
    public static void Create(SqliteConnection connection, SqliteTransaction transaction)
    {
        using var cmd = connection.CreateCommand();
        cmd.Transaction = transaction;
        cmd.CommandText = Ddl + $"\nPRAGMA application_id = {ApplicationId};\nPRAGMA user_version = {Version};";
        cmd.ExecuteNonQuery();
    }

    public static string KindName(LatentKind kind) => kind switch
    {
        LatentKind.Observed => "observed", LatentKind.Predicted => "predicted", LatentKind.Goal => "goal",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static string KindName(EpisodeEventKind kind) => kind switch
    {
        EpisodeEventKind.EStop => "estop", EpisodeEventKind.Fault => "fault", EpisodeEventKind.Disconnect => "disconnect",
        EpisodeEventKind.Reconnect => "reconnect", EpisodeEventKind.Gap => "gap", EpisodeEventKind.Overrun => "overrun",
        EpisodeEventKind.Note => "note", EpisodeEventKind.GoalReached => "goal_reached", EpisodeEventKind.WarmStartReset => "warm_start_reset",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static LatentKind ParseLatentKind(string s) => s switch
    {
        "observed" => LatentKind.Observed, "predicted" => LatentKind.Predicted, "goal" => LatentKind.Goal,
        _ => throw new FormatException($"unknown latent kind '{s}' (expected observed, predicted or goal)"),
    };

    public static EpisodeEventKind ParseEventKind(string s) => s switch
    {
        "estop" => EpisodeEventKind.EStop, "fault" => EpisodeEventKind.Fault, "disconnect" => EpisodeEventKind.Disconnect,
        "reconnect" => EpisodeEventKind.Reconnect, "gap" => EpisodeEventKind.Gap, "overrun" => EpisodeEventKind.Overrun,
        "note" => EpisodeEventKind.Note, "goal_reached" => EpisodeEventKind.GoalReached, "warm_start_reset" => EpisodeEventKind.WarmStartReset,
        _ => throw new FormatException($"unknown event kind '{s}'"),
    };
}
