using Microsoft.Extensions.Logging;

namespace RobotCtl.Runtime;

/// <summary>
/// One run's lifetime around its loop, written once for `run` and `demo` (through <see cref="ControlLoopService"/>),
/// `eval` and the tests: the local e-stop endpoint when asked for (<see cref="ServeEStop"/>), then the streamer starts,
/// the loop runs on its own thread until it ends or is cancelled, and the streamer stops with a last hold, leaving the
/// arm still. Closing the episode is a separate step, because eval closes it with its own verdict (the sim's true
/// state) rather than the loop's outcome. Disposing stops the e-stop endpoint.
/// </summary>
public sealed class ControlSession(RuntimeComponents components, ControlLoop loop) : IAsyncDisposable
{
    private ControlEndpoint? _endpoint;

    public RuntimeComponents Components => components;

    public ControlLoop Loop => loop;

    /// <summary>
    /// Serves `robotctl estop` for this run on a private Unix socket in <paramref name="controlDirectory"/> (null: the
    /// default) and returns its path; null when the run has no e-stop latch. Throws <see cref="IOException"/> when the
    /// socket cannot be served: a run without its e-stop input must not start.
    /// </summary>
    public string? ServeEStop(string? controlDirectory, ILogger logger)
    {
        if (components.EStop is not { } latch) return null;
        _endpoint ??= ControlEndpoint.Start(ControlEndpoint.DirectoryFor(controlDirectory), latch,
            $"robotctl pid {Environment.ProcessId}, arm {components.Arm.Description}", logger);
        return _endpoint.SocketPath;
    }

    /// <summary>Runs the loop to its end (or <paramref name="cancellationToken"/>: <see cref="RunOutcome.Cancelled"/>).</summary>
    public async Task<RunOutcome> RunAsync(CancellationToken cancellationToken)
    {
        components.Streamer.Start();
        try
        {
            // The loop is synchronous and paced on its own deadlines: a dedicated thread, not a pool thread.
            return await Task.Factory.StartNew(() => loop.Run(cancellationToken), CancellationToken.None,
                TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        }
        finally
        {
            components.Streamer.Stop(); // a last hold before anything else
        }
    }

    /// <summary>Closes the episode (when recording) with <paramref name="outcome"/> and the loop's last word on it.</summary>
    public Task CloseEpisodeAsync(RunOutcome outcome) => components.CloseEpisodeAsync(outcome, loop.OutcomeMessage);

    public async ValueTask DisposeAsync()
    {
        if (_endpoint is not null) await _endpoint.DisposeAsync().ConfigureAwait(false);
    }
}
