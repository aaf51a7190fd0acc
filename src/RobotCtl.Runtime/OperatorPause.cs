using Microsoft.Extensions.Logging;
using RobotCtl.Episodes;

namespace RobotCtl.Runtime;

/// <summary>
/// An operator's pause: unlike the e-stop it does not latch the governor, it only stops planning. The loop parks at
/// the top of its next cycle and drops the current chunk, so the streamer has nothing fresh and the governor's watchdog
/// holds the arm; resuming replans from a fresh frame with no warm start. Called from HTTP or endpoint threads.
/// </summary>
public sealed class OperatorPause(EpisodeRecorder? recorder, ILogger logger)
{
    private readonly Lock _gate = new();
    private volatile bool _paused;

    /// <summary>The loop's current step, for the episode events (set by whoever runs the loop).</summary>
    public Func<long> CurrentStep { get; set; } = () => -1;

    public bool IsPaused => _paused;

    /// <summary>Pauses (idempotent) and says what happened, in one line.</summary>
    public string Pause(string who)
    {
        lock (_gate)
        {
            if (_paused) return "already paused";
            _paused = true;
            recorder?.RecordEvent(CurrentStep(), EpisodeEventKind.Note, $"paused by {who}");
            logger.LogInformation("paused by {Who}; the arm holds until resumed", who);
            return "paused; the arm holds";
        }
    }

    /// <summary>Resumes (idempotent) and says what happened, in one line.</summary>
    public string Resume(string who)
    {
        lock (_gate)
        {
            if (!_paused) return "not paused";
            _paused = false;
            recorder?.RecordEvent(CurrentStep(), EpisodeEventKind.Note, $"resumed by {who}");
            logger.LogInformation("resumed by {Who}", who);
            return "resumed";
        }
    }
}
