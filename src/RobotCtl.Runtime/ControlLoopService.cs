using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RobotCtl.Runtime;

/// <summary>
/// Runs the control loop as the host's background service. When the loop ends (goal reached, budget spent, a
/// fault) or the host stops (Ctrl-C, SIGTERM), the streamer sends a last hold, the episode is closed, and the
/// application stops with the outcome recorded for the exit code.
/// </summary>
public sealed class ControlLoopService(RuntimeComponents components, ControlLoop loop, IHostApplicationLifetime lifetime,
    ILogger<ControlLoopService> logger) : BackgroundService
{
    public RunOutcome? Outcome { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            components.Streamer.Start();
            // The loop is synchronous and paced on its own deadlines: give it a dedicated thread, not a pool thread.
            Outcome = await Task.Factory.StartNew(() => loop.Run(stoppingToken), stoppingToken,
                TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Outcome = RunOutcome.Cancelled;
        }
        catch (Exception e)
        {
            logger.LogError(e, "control loop failed");
            Outcome = RunOutcome.Faulted;
        }
        finally
        {
            // Leave the arm holding still before anything else.
            components.Streamer.Stop();
            await components.CloseEpisodeAsync(Outcome ?? RunOutcome.Faulted, loop.OutcomeMessage).ConfigureAwait(false);
            lifetime.StopApplication();
        }
    }
}
