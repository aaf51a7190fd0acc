using Microsoft.Extensions.DependencyInjection;
using RobotCtl.Runtime;
using RobotCtl.Runtime.Composition;
using RobotCtl.Runtime.Devices;
using RobotCtl.Sim.Devices;

namespace RobotCtl.Testing;

/// <summary>
/// A run composed as robotctl composes one (the runtime's container with the hardware kinds and the simulated
/// workcell registered), its <see cref="ControlSession"/> opened. Disposing releases the run, then the container.
/// </summary>
internal sealed class SessionRun(ServiceProvider services, ControlSession session) : IAsyncDisposable
{
    public ControlSession Session => session;
    public RuntimeComponents Components => session.Components;
    public ControlLoop Loop => session.Loop;
    public RunSettings Settings => session.Factory.Settings;

    /// <param name="externalSuccess">Made from the session (its loop exists only once it is open).</param>
    public static async Task<SessionRun> OpenAsync(IReadOnlyList<string> goals, SettingsOverrides overrides, RunWorld? world = null,
        PlannerChoice? planner = null, Func<ControlSession, Func<int, bool>>? externalSuccess = null)
    {
        var services = RuntimeServices.Create(AppConfiguration.Build(overrides), devices: DeviceRegistry.WithHardware().AddSimWorkcell());
        var session = services.GetRequiredService<ControlSession>();
        try
        {
            await session.OpenAsync(new ControlSessionRequest(goals)
            {
                World = world, Planner = planner, ExternalSuccess = externalSuccess?.Invoke(session),
            }, CancellationToken.None);
        }
        catch
        {
            await services.DisposeAsync();
            throw;
        }
        return new SessionRun(services, session);
    }

    /// <summary>Runs the loop to its end on a thread of its own, as the host does, the streamer running around it.</summary>
    public Task<RunOutcome> RunToEndAsync() => session.RunAsync(CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await session.DisposeAsync();
        await services.DisposeAsync();
    }
}
