using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RobotCtl.Dashboard;
using RobotCtl.Runtime.Composition;
using RobotCtl.Runtime;
using RobotCtl.Runtime.Devices;
using RobotCtl.Host.Composition;

namespace RobotCtl.Host.Commands;

/// <summary>`robotctl run`: the hosted closed loop (camera -> world model -> planner -> arm), recorded as an episode.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var options = new RunCommandOptions();
        var command = new Command("run",
            "Run the closed loop: capture frames, encode them with the world model, plan toward the goal image(s) with " +
            "CEM/MPPI, and stream 7-D end-effector commands to the arm through the safety governor, recording an episode. " +
            "Settings come from appsettings.json, ROBOTCTL_* environment variables (ROBOTCTL_Runtime__Camera=...) and the " +
            "options below. `robotctl estop` latches a running run (the arm holds until `robotctl estop --release`), as does " +
            "any message on an MQTT arm's robotctl/<id>/estop topic. Exit codes: 0 goal reached, 3 step budget spent, " +
            "4 stopped (surprise), 5 fault (no arm state for Safety:LinkLossMs, camera, model), 2 bad input, 130 interrupted.");
        options.AddTo(command);
        var allowUnlinkedCamera = new Option<bool>("--allow-unlinked-camera")
        {
            Description = "Allow --camera sim with an arm that is not the simulated one (the camera does not see that arm) [Safety:AllowUnlinkedCamera]",
        };
        command.Options.Add(allowUnlinkedCamera);
        var dashboard = new Option<bool>("--dashboard") { Description = $"Serve the live operator dashboard (camera, goal, charts, E-STOP) while the loop runs, on {DashboardOptions.DefaultListen} unless --listen" };
        var listen = DashboardCommand.ListenOption();
        var token = DashboardCommand.TokenOption();
        command.Options.Add(dashboard);
        command.Options.Add(listen);
        command.Options.Add(token);
        command.Validators.Add(r =>
        {
            if (!r.GetValue(dashboard) && (r.GetValue(listen) is not null || r.GetValue(token) is not null))
                r.AddError("--listen and --token configure the dashboard: add --dashboard");
        });
        command.SetAction((parseResult, ct) =>
        {
            var request = options.Read(parseResult);
            request = request with { AllowUnlinkedCamera = parseResult.GetValue(allowUnlinkedCamera) };
            request = request with { Dashboard = parseResult.GetValue(dashboard), DashboardListen = parseResult.GetValue(listen), DashboardToken = parseResult.GetValue(token) };
            return RunAsync(request, ct);
        });
        return command;
    }

    /// <param name="world">What the run's camera and arm share, with what the caller supplies (the demo's workcell, a
    /// test's workcell served over a real transport).</param>
    /// <param name="externalSuccess">Judges success instead of the latent-distance threshold (the demo: the sim's true state).</param>
    internal static async Task<int> RunAsync(RunRequest request, CancellationToken cancellationToken, RunWorld? world = null,
        Func<int, bool>? externalSuccess = null, Action<Uri>? dashboardStarted = null)
    {
        using var loggers = LoggerFactory.Create(b => b.AddStderrConsole()
            .SetMinimumLevel(request.Verbose ? LogLevel.Debug : LogLevel.Information));
        // One container: the runtime's services and the hosted loop (the generic host's own logging stays out of the run's log).
        IHost? host = null;
        DashboardOptions? dashboardOptions = null;
        try
        {
            var configuration = AppConfiguration.Build(request.Overrides());
            // Before anything is opened: a dashboard that cannot be served safely refuses the run.
            if (request.Dashboard) dashboardOptions = DashboardCommand.Options(configuration, request.DashboardListen, request.DashboardToken, null);
            var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = RobotCtlHome.Path });
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton(loggers);
            builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
            builder.Services.AddRobotCtl(configuration);
            builder.Services.AddHostedService<ControlLoopService>();
            builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(10));
            builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
            host = builder.Build();
            host.Services.Factory(); // every setting bound and validated now, naming a bad key
        }
        catch (Exception e) when (e is ConfigurationValueException or InvalidOperationException or ArgumentException or DashboardConfigurationException)
        {
            host?.Dispose();
            return CliErrors.Fail("run", e);
        }
        using var _ = host;
        var settings = host.Services.Factory().Settings;
        try
        {
            // Before the model is loaded or the arm opened: an episode that cannot be written refuses the run.
            if (settings.Recording.Enabled)
                OutputPaths.RequireWritableDirectory(request.Record is not null ? "--record" : "Recording:Directory", RobotCtlHome.Resolve(settings.Recording.Directory));
        }
        catch (ArgumentException e)
        {
            return CliErrors.Fail("run", e);
        }
        var session = host.Services.GetRequiredService<ControlSession>();
        await using var sessionScope = session;
        try
        {
            await session.OpenAsync(new ControlSessionRequest(request.Goals) { World = world, ExternalSuccess = externalSuccess }, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return ExitCodes.Interrupted;
        }
        catch (Exception e)
        {
            return CliErrors.Fail("run", e);
        }

        var components = session.Components;
        var loop = session.Loop;
        // The local e-stop input (robotctl estop): a private Unix socket served on its own task; no run without it.
        try
        {
            if (session.ServeEStop() is { } socket)
                loggers.CreateLogger("robotctl.run").LogInformation("e-stop: robotctl estop (control socket {Path}); release: robotctl estop --release", socket);
        }
        catch (IOException e)
        {
            return CliErrors.Fail("run", e);
        }
        DashboardServer? dashboard = null;
        if (dashboardOptions is not null)
        {
            var episodes = components.Recorder is { } recorder ? Path.GetDirectoryName(recorder.Path) : RobotCtlHome.Resolve(settings.Recording.Directory);
            try
            {
                dashboard = await DashboardCommand.StartLiveAsync(dashboardOptions with { EpisodesDirectory = episodes }, session, loggers, cancellationToken);
            }
            catch (DashboardConfigurationException e)
            {
                return CliErrors.Fail("run", e);
            }
            dashboardStarted?.Invoke(dashboard.Address);
        }
        await using var dashboardScope = dashboard;
        var progress = new ConsoleProgress(Console.Out, request.Quiet);
        loop.CycleCompleted += progress.Report;
        progress.Header(components, settings, loop);

        await host.RunAsync(cancellationToken);
        var outcome = session.Outcome ?? RunOutcome.Cancelled;
        progress.Summary(outcome, loop, components);
        return ExitCodes.Of(outcome);
    }
}
