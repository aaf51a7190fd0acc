using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using RobotCtl.Host.Commands;
using RobotCtl.Runtime;
using RobotCtl.Runtime.Composition;

namespace RobotCtl.Dashboard.Tests;

/// <summary>
/// A real sim run composed through the one composition path (as the host tests' allocation test does), its loop on
/// its own thread, with a dashboard on an ephemeral loopback port watching it.
/// </summary>
internal sealed class LiveRunHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly CancellationTokenSource _cts = new();
    private bool _finished;
    private RunOutcome _outcome;

    private LiveRunHarness(ServiceProvider services, RuntimeComponents components, ControlLoop loop)
    {
        _services = services;
        Components = components;
        Loop = loop;
    }

    public RuntimeComponents Components { get; }
    public ControlLoop Loop { get; }
    public DashboardServer? Server { get; private set; }
    public LiveRun? Live { get; private set; }
    public Task<RunOutcome> Run { get; private set; } = Task.FromResult(RunOutcome.Cancelled);
    public HttpClient Http { get; private set; } = new();

    public static async Task<LiveRunHarness> StartAsync(RunRequest request, DashboardOptions? dashboard = null, bool startLoop = true, Func<int, bool>? externalSuccess = null)
    {
        var services = RuntimeServices.Create(AppConfiguration.Build(request.Overrides()));
        var settings = services.Factory().Settings;
        var components = await services.Factory().BuildRunAsync(request.Goals, CancellationToken.None);
        var loop = new ControlLoop(components, settings.Runtime, settings.Surprise, NullLogger.Instance) { ExternalSuccess = externalSuccess };
        if (components.EStop is { } estop) estop.CurrentStep = () => loop.Step;
        var harness = new LiveRunHarness(services, components, loop);
        var options = (dashboard ?? new DashboardOptions { Listen = "127.0.0.1:0" }) with
        {
            EpisodesDirectory = request.Record,
            GoalDirectory = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(request.Record!))!, "goals"),
        };
        harness.Live = new LiveRun(components, loop);
        harness.Server = await DashboardServer.StartAsync(options, harness.Live);
        harness.Http = new HttpClient { BaseAddress = harness.Server.Address, Timeout = TestSupport.Generous };
        if (startLoop) harness.StartLoop();
        return harness;
    }

    public void StartLoop()
    {
        Run = new ControlSession(Components, Loop).RunAsync(_cts.Token);
    }

    /// <summary>Cancels the loop (if still running), leaves the arm holding and closes the episode.</summary>
    public async Task<RunOutcome> FinishAsync()
    {
        if (_finished) return _outcome;
        _finished = true;
        _cts.Cancel();
        RunOutcome outcome;
        try
        {
            outcome = await Run.WaitAsync(TestSupport.Generous);
        }
        catch (OperationCanceledException)
        {
            // Cancelled inside a wait: an interrupted run.
            outcome = RunOutcome.Cancelled;
        }
        await Components.CloseEpisodeAsync(outcome, Loop.OutcomeMessage);
        return _outcome = outcome;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await FinishAsync();
        }
        finally
        {
            Http.Dispose();
            if (Server is not null) await Server.DisposeAsync();
            await Components.DisposeAsync();
            await _services.DisposeAsync();
            _cts.Dispose();
        }
    }
}
