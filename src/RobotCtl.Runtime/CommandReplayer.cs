using Microsoft.Extensions.Logging;
using RobotCtl.Core.Arm;
using RobotCtl.Core.Timing;
using RobotCtl.Episodes;
using RobotCtl.Hardware.Safety;

namespace RobotCtl.Runtime;

/// <summary>
/// Re-sends an episode's recorded commands to an arm (opt-in): first eases the arm from wherever it is to the
/// episode's starting pose in small governed steps, then sends the recorded commands paced by their recorded
/// timestamps (divided by the speed factor), every one through the safety governor, and ends with hold.
/// </summary>
public sealed class CommandReplayer(IArmLink arm, SafetyGovernor governor, ILogger logger)
{
    /// <summary>Fraction of the per-step limit used while easing in.</summary>
    public const float EaseFraction = 0.5f;

    public int Sent { get; private set; }
    public int Refused { get; private set; }

    public async Task RunAsync(IReadOnlyList<CommandRow> commands, ArmState? startPose, long recordedTickFrequency, double speed,
        double rateHz, CancellationToken ct)
    {
        var period = TimeSpan.FromSeconds(1 / rateHz);
        if (startPose is { } start) await EaseInAsync(start, period, ct).ConfigureAwait(false);
        if (commands.Count == 0) return;
        var t0Recorded = commands[0].Ticks;
        var t0 = MonotonicClock.Now;
        foreach (var c in commands)
        {
            ct.ThrowIfCancellationRequested();
            var offset = TimeSpan.FromSeconds((c.Ticks - t0Recorded) / (double)recordedTickFrequency / speed);
            var wait = offset - MonotonicClock.Elapsed(t0);
            if (wait > TimeSpan.Zero) await Task.Delay(wait, ct).ConfigureAwait(false);
            Send(c.Sent);
        }
        Send(EeCommand.Hold);
    }

    private async Task EaseInAsync(ArmState target, TimeSpan period, CancellationToken ct)
    {
        var limits = governor.Limits.MaxStep;
        var deadline = MonotonicClock.Now + MonotonicClock.FromTimeSpan(TimeSpan.FromSeconds(60));
        var d = new float[EeCommand.Dim];
        while (MonotonicClock.Now < deadline)
        {
            ct.ThrowIfCancellationRequested();
            if (!arm.TryGetLatestState(out var now)) { await Task.Delay(period, ct).ConfigureAwait(false); continue; }
            d[0] = (float)(target.X - now.X); d[1] = (float)(target.Y - now.Y); d[2] = (float)(target.Z - now.Z);
            d[3] = (float)WrapAngle(target.Roll - now.Roll); d[4] = (float)WrapAngle(target.Pitch - now.Pitch);
            d[5] = (float)WrapAngle(target.Yaw - now.Yaw); d[6] = (float)(target.Gripper - now.Gripper);
            var done = true;
            for (var i = 0; i < EeCommand.Dim; i++)
            {
                var step = limits[i] * EaseFraction;
                if (Math.Abs(d[i]) > 1e-4f) done = false;
                d[i] = Math.Clamp(d[i], -step, step);
            }
            if (done) { logger.LogInformation("eased in to the episode's starting pose"); return; }
            Send(EeCommand.FromSpan(d));
            await Task.Delay(period, ct).ConfigureAwait(false);
        }
        throw new TimeoutException("the arm did not reach the episode's starting pose within 60 s; nothing of the episode was sent");
    }

    private void Send(in EeCommand command)
    {
        var hasState = arm.TryGetLatestState(out var state);
        var governed = governor.Govern(command, hasState, state, MonotonicClock.Now);
        if (governed.WasRefused) Refused++;
        if (governed.Transmit && arm.TrySend(governed.Command)) Sent++;
    }

    private static double WrapAngle(double a) => Math.IEEERemainder(a, 2 * Math.PI);
}
