using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RobotCtl.Runtime;

/// <summary>
/// Hosts an opened <see cref="ControlSession"/> as the host's background service. When the loop ends (goal reached,
/// budget spent, a fault) or the host stops (Ctrl-C, SIGTERM), the arm is left holding, the episode is closed, and the
/// application stops; the outcome stays on the session for the CLI's exit code.
/// </summary>
public sealed class ControlLoopService(ControlSession session, IHostApplicationLifetime lifetime, ILogger<ControlLoopService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var outcome = RunOutcome.Faulted;
        try
        {
            outcome = await session.RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            logger.LogError(e, "control loop failed");
        }
        finally
        {
            await session.CloseEpisodeAsync(outcome).ConfigureAwait(false);
            lifetime.StopApplication();
        }
    }
}
