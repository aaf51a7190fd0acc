namespace RobotCtl.Runtime;

/// <summary>
/// One run's lifetime around its loop, written once for `run` and `demo` (through <see cref="ControlLoopService"/>),
/// `eval` and the tests: the streamer starts, the loop runs on its own thread until it ends or is cancelled, and the
/// streamer stops with a last hold, leaving the arm still. Closing the episode is a separate step, because eval closes
/// it with its own verdict (the sim's true state) rather than the loop's outcome.
/// </summary>
public sealed class ControlSession(RuntimeComponents components, ControlLoop loop)
{
    public RuntimeComponents Components => components;

    public ControlLoop Loop => loop;

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
}
