using RobotCtl.Host.Composition;
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

    private LiveRunHarness(ServiceProvider services, ControlSession session)
    {
        _services = services;
        Session = session;
    }

    public ControlSession Session { get; }

    public RuntimeComponents Components => Session.Components;
    public ControlLoop Loop => Session.Loop;
    public DashboardServer? Server { get; private set; }
    public LiveRun? Live { get; private set; }
    public Task<RunOutcome> Run { get; private set; } = Task.FromResult(RunOutcome.Cancelled);
    public HttpClient Http { get; private set; } = new();

    public static async Task<LiveRunHarness> StartAsync(RunRequest request, DashboardOptions? dashboard = null, bool startLoop = true, Func<int, bool>? externalSuccess = null)
    {
        var services = HostServices.Create(AppConfiguration.Build(request.Overrides()));
        var session = services.GetRequiredService<ControlSession>();
        await session.OpenAsync(new ControlSessionRequest(request.Goals) { ExternalSuccess = externalSuccess }, CancellationToken.None);
        var harness = new LiveRunHarness(services, session);
        var options = (dashboard ?? new DashboardOptions { Listen = "127.0.0.1:0" }) with
        {
            EpisodesDirectory = request.Record,
            GoalDirectory = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(request.Record!))!, "goals"),
        };
        harness.Live = new LiveRun(session);
        harness.Server = await DashboardServer.StartAsync(options, harness.Live);
        harness.Http = new HttpClient { BaseAddress = harness.Server.Address, Timeout = TestSupport.Generous };
        if (startLoop) harness.StartLoop();
        return harness;
    }

    public void StartLoop()
    {
        Run = Session.RunAsync(_cts.Token);
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
        await Session.CloseEpisodeAsync(outcome);
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
            await Session.DisposeAsync();
            await _services.DisposeAsync();
            _cts.Dispose();
        }
    }
}
