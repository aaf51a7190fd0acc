using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RobotCtl.Runtime;

/// <summary>
/// Hosts a <see cref="ControlSession"/> as the host's background service. When the loop ends (goal reached, budget
/// spent, a fault) or the host stops (Ctrl-C, SIGTERM), the arm is left holding, the episode is closed, and the
/// application stops with the outcome recorded for the CLI's exit code.
/// </summary>
public sealed class ControlLoopService(ControlSession session, IHostApplicationLifetime lifetime, ILogger<ControlLoopService> logger)
    : BackgroundService
{
    public RunOutcome? Outcome { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            Outcome = await session.RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            logger.LogError(e, "control loop failed");
            Outcome = RunOutcome.Faulted;
        }
        finally
        {
            await session.CloseEpisodeAsync(Outcome ?? RunOutcome.Faulted).ConfigureAwait(false);
            lifetime.StopApplication();
        }
    }
}
