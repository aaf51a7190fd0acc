using Microsoft.Extensions.Logging;
using RobotCtl.Core.Arm;
using RobotCtl.Episodes;
using RobotCtl.Hardware.Links;
using RobotCtl.Hardware.Safety;

namespace RobotCtl.Runtime;

/// <summary>
/// The runtime's e-stop: one place that latches and releases, whatever asked (the MQTT estop topic, the local control
/// endpoint). Latching latches the governor (from its next decision only holds leave), drops the current chunk, sends
/// the link's EStop frame when it has one (the arm side latches too) and records an episode event; release needs an
/// explicit request and does the reverse. Called from link and endpoint threads; never from the control hot path.
/// </summary>
public sealed class EStopController
{
    private readonly SafetyGovernor _governor;
    private readonly IArmLink _arm;
    private readonly ActionChunkStream _chunks;
    private readonly EpisodeRecorder? _recorder;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();

    public EStopController(SafetyGovernor governor, IArmLink arm, ActionChunkStream chunks, EpisodeRecorder? recorder, ILogger logger)
    {
        _governor = governor;
        _arm = arm;
        _chunks = chunks;
        _recorder = recorder;
        _logger = logger;
    }

    /// <summary>The loop's current step, for the episode events (set by whoever runs the loop).</summary>
    public Func<long> CurrentStep { get; set; } = () => -1;

    public bool IsLatched => _governor.IsEStopped;

    /// <summary>Latches (idempotent) and says what happened, in one line.</summary>
    public string Latch(string source)
    {
        lock (_gate)
        {
            if (_governor.IsEStopped) return $"already latched; arm {_arm.Description} holding";
            _governor.EStop(source);
            _chunks.Clear();
            var armSide = _arm is IArmEStop link
                ? link.SendEStop() ? "; arm side latched (EStop frame sent)" : "; the EStop frame could not be sent (link down): the arm's own watchdog holds it"
                : "";
            var message = $"e-stop latched by {source}{armSide}";
            _recorder?.RecordEvent(CurrentStep(), EpisodeEventKind.EStop, message);
            _logger.LogWarning("{Message}; release with: robotctl estop --release", message);
            return $"latched; arm {_arm.Description} holding{armSide}";
        }
    }

    /// <summary>Re-arms (the explicit release) and says what happened, in one line.</summary>
    public string Release(string who)
    {
        lock (_gate)
        {
            if (!_governor.IsEStopped) return "not latched; nothing to release";
            // The arm side first: a governor that lets commands through to an arm still latched only earns refusals.
            var armSide = _arm is IArmEStop link
                ? link.SendRearm() ? "; arm side re-armed (Rearm frame sent)" : "; the Rearm frame could not be sent (link down): the arm side may still refuse commands"
                : "";
            _governor.Rearm(who);
            var message = $"e-stop released by {who}{armSide}";
            // A note, not an e-stop event: the summary's e-stop count is the number of latches.
            _recorder?.RecordEvent(CurrentStep(), EpisodeEventKind.Note, message);
            _logger.LogWarning("{Message}", message);
            return $"released; arm {_arm.Description}{armSide}";
        }
    }
}
