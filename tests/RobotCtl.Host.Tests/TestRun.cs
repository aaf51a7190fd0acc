using Microsoft.Extensions.DependencyInjection;
using RobotCtl.Host.Commands;
using RobotCtl.Host.Composition;
using RobotCtl.Runtime;
using RobotCtl.Runtime.Composition;
using RobotCtl.Runtime.Devices;

namespace RobotCtl.Host.Tests;

/// <summary>
/// A run as the CLI makes one: the host's container for <paramref name="request"/>'s settings, its
/// <see cref="ControlSession"/> opened. Disposing releases the run, then the container.
/// </summary>
internal sealed class TestRun(ServiceProvider services, ControlSession session) : IAsyncDisposable
{
    public ControlSession Session => session;
    public RuntimeComponents Components => session.Components;
    public ControlLoop Loop => session.Loop;
    public RunSettings Settings => session.Factory.Settings;

    public static async Task<TestRun> OpenAsync(RunRequest request, RunWorld? world = null, PlannerChoice? planner = null,
        Func<ControlSession, Func<int, bool>>? externalSuccess = null)
    {
        var services = HostServices.Create(AppConfiguration.Build(request.Overrides()));
        var session = services.GetRequiredService<ControlSession>();
        try
        {
            await session.OpenAsync(new ControlSessionRequest(request.Goals)
            {
                World = world, Planner = planner, ExternalSuccess = externalSuccess?.Invoke(session),
            }, CancellationToken.None);
        }
        catch
        {
            await services.DisposeAsync();
            throw;
        }
        return new TestRun(services, session);
    }

    /// <summary>Runs the loop to its end on a thread of its own, as the host does, the streamer running around it.</summary>
    public Task<RunOutcome> RunToEndAsync() => session.RunAsync(CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await session.DisposeAsync();
        await services.DisposeAsync();
    }
}
