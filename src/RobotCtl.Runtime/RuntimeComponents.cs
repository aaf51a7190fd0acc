using RobotCtl.Core.Arm;
using RobotCtl.Core.Vision;
using RobotCtl.Core.WorldModel;
using RobotCtl.Episodes;
using RobotCtl.Hardware.Safety;
using RobotCtl.Planning;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Runtime;

/// <summary>
/// Everything one run is made of, composed once by <see cref="Composition.RuntimeBuilder"/> and owned here:
/// disposing it leaves the arm holding still, stops the camera, closes the episode and releases native memory.
/// </summary>
public sealed class RuntimeComponents : IAsyncDisposable
{
    public required IWorldModel Model { get; init; }
    public required Preprocessor Preprocessor { get; init; }
    public required ICamera Camera { get; init; }
    public required IArmLink Arm { get; init; }
    public required SafetyGovernor Governor { get; init; }
    public required ActionMapping Mapping { get; init; }
    public required IPlanner Planner { get; init; }
    public required ActionChunkStream Chunks { get; init; }
    public required CommandStreamer Streamer { get; init; }
    public required GoalSet Goals { get; init; }
    public required SurpriseOptions SurpriseOptions { get; init; }
    public required string PlannerName { get; init; }
    public required string PlannerSettingsJson { get; init; }
    public TimeSpan? PlannerDeadline { get; init; }

    /// <summary>
    /// Observed frames per plan (Planner:ContextFrames, validated against the model's history; 1 for a planner that
    /// reads no context): the loop keeps that many frames one action block apart, with the blocks executed between them.
    /// </summary>
    public int ContextFrames { get; init; } = 1;
    public EpisodeRecorder? Recorder { get; init; }

    /// <summary>Latches and releases the e-stop (the MQTT estop topic, the local control endpoint); null: no e-stop input.</summary>
    public EStopController? EStop { get; init; }

    /// <summary>An operator's pause (the dashboard): the loop parks and the arm holds without latching; null: no pause input.</summary>
    public OperatorPause? Pause { get; init; }

    /// <summary>Records link disconnects and reconnects and tells the loop when the arm has gone silent; null: not watched.</summary>
    public LinkMonitor? LinkMonitor { get; init; }

    private bool _closed;

    /// <summary>Writes the outcome and flushes the episode (idempotent).</summary>
    public async Task CloseEpisodeAsync(RunOutcome outcome, string message)
    {
        // Link events after this point would arrive at a closed episode (the link reports its own close).
        LinkMonitor?.Dispose();
        if (_closed || Recorder is null) return;
        _closed = true;
        Recorder.RecordEvent(-1, EpisodeEventKind.Note, $"governor: {Governor.Governed} governed, {Governor.Transmitted} transmitted, " +
            string.Join(", ", Governor.Counts().Where(c => c.Value > 0).Select(c => $"{c.Key} {c.Value}")));
        if (Arm is IArmLinkTraffic traffic)
            Recorder.RecordEvent(-1, EpisodeEventKind.Note, $"link: {traffic.CommandsSent} commands sent, {traffic.CommandsSuperseded} superseded before sending");
        await Recorder.CompleteAsync(outcome == RunOutcome.Success, $"{outcome}: {message}").ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        Streamer.Dispose();
        LinkMonitor?.Dispose();
        Camera.Dispose();
        await Arm.DisposeAsync().ConfigureAwait(false);
        if (Recorder is not null)
        {
            await CloseEpisodeAsync(RunOutcome.Faulted, "runtime disposed before the run ended").ConfigureAwait(false);
            await Recorder.DisposeAsync().ConfigureAwait(false);
        }
        Planner.Dispose();
        Preprocessor.Dispose();
        Model.Dispose();
    }
}
