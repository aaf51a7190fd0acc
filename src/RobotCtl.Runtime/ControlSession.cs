using Microsoft.Extensions.Logging;
using RobotCtl.Runtime.Composition;

namespace RobotCtl.Runtime;

/// <summary>
/// One run's lifetime, written once for `run` and `demo` (hosted by <see cref="ControlLoopService"/>), `eval` and the
/// tests. It is a service of the runtime's container (<see cref="RuntimeServiceCollectionExtensions.AddRobotCtlRuntime"/>):
/// <see cref="OpenAsync"/> builds the run through the container's <see cref="RuntimeFactory"/> (refusing bad input
/// before anything moves) and its <see cref="ControlLoop"/>; <see cref="ServeEStop"/> serves the local e-stop input;
/// <see cref="RunAsync"/> starts the streamer, runs the loop on its own thread until it ends or is cancelled, and stops
/// the streamer with a last hold, leaving the arm still. Closing the episode is a separate step, because eval closes
/// it with its own verdict (the sim's true state) rather than the loop's outcome. Disposing stops the e-stop endpoint
/// and releases the run (camera, arm, model, episode).
/// </summary>
public sealed class ControlSession(RuntimeFactory factory) : IAsyncDisposable, IDisposable
{
    private RuntimeComponents? _components;
    private ControlLoop? _loop;
    private ControlEndpoint? _endpoint;
    private bool _disposed;

    public RuntimeFactory Factory => factory;

    /// <summary>The run's parts; only after <see cref="OpenAsync"/>.</summary>
    public RuntimeComponents Components => _components ?? throw NotOpen();

    /// <summary>The run's loop (its step, last cycle, outcome message, cycle events); only after <see cref="OpenAsync"/>.</summary>
    public ControlLoop Loop => _loop ?? throw NotOpen();

    /// <summary>What <see cref="RunAsync"/> ended with; null before it ends.</summary>
    public RunOutcome? Outcome { get; private set; }

    /// <summary>
    /// Builds the run (model, goals, camera, arm, recorder, governor, streamer) and its loop. Throws what the builder
    /// throws for bad input (nothing has moved then, and nothing stays open).
    /// </summary>
    public async Task OpenAsync(ControlSessionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_components is not null) throw new InvalidOperationException("the control session is already open");
        var settings = factory.Settings;
        _components = await factory.BuildRunAsync(request.Goals, cancellationToken, request.World, request.Planner).ConfigureAwait(false);
        _loop = new ControlLoop(_components, settings.Runtime, settings.Surprise, factory.Loggers.CreateLogger<ControlLoop>())
        {
            ExternalSuccess = request.ExternalSuccess,
        };
    }

    /// <summary>
    /// Serves `robotctl estop` for this run on a private Unix socket in Safety:ControlDirectory (unset: the default) and
    /// returns its path; null when the run has no e-stop latch. Throws <see cref="IOException"/> when the socket cannot
    /// be served: a run without its e-stop input must not start.
    /// </summary>
    public string? ServeEStop()
    {
        if (Components.EStop is not { } latch) return null;
        _endpoint ??= ControlEndpoint.Start(ControlEndpoint.DirectoryFor(factory.Settings.Safety.ControlDirectory), latch,
            $"robotctl pid {Environment.ProcessId}, arm {Components.Arm.Description}", factory.Loggers.CreateLogger<ControlEndpoint>());
        return _endpoint.SocketPath;
    }

    /// <summary>Runs the loop to its end (or <paramref name="cancellationToken"/>: <see cref="RunOutcome.Cancelled"/>).</summary>
    public async Task<RunOutcome> RunAsync(CancellationToken cancellationToken)
    {
        var components = Components;
        var loop = Loop;
        components.Streamer.Start();
        try
        {
            // The loop is synchronous and paced on its own deadlines: a dedicated thread, not a pool thread.
            Outcome = await Task.Factory.StartNew(() => loop.Run(cancellationToken), CancellationToken.None,
                TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
            return Outcome.Value;
        }
        catch
        {
            Outcome = RunOutcome.Faulted;
            throw;
        }
        finally
        {
            components.Streamer.Stop(); // a last hold before anything else
        }
    }

    /// <summary>Closes the episode (when recording) with <paramref name="outcome"/> and the loop's last word on it.</summary>
    public Task CloseEpisodeAsync(RunOutcome outcome) => Components.CloseEpisodeAsync(outcome, Loop.OutcomeMessage);

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        if (_endpoint is not null) await _endpoint.DisposeAsync().ConfigureAwait(false);
        if (_components is not null) await _components.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>For a container disposed synchronously; the owner normally awaits <see cref="DisposeAsync"/> first.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private static InvalidOperationException NotOpen() => new("the control session is not open: call OpenAsync first");
}
