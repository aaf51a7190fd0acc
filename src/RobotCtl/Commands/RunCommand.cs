using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RobotCtl.Runtime.Composition;
using RobotCtl.Runtime;

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
            "options below. Exit codes: 0 goal reached, 3 step budget spent, 4 stopped (surprise), 5 fault, 2 bad input, 130 interrupted.");
        options.AddTo(command);
        command.SetAction((parseResult, ct) => RunAsync(options.Read(parseResult), ct));
        return command;
    }

    /// <param name="workcell">A simulated workcell the run's sim camera observes (tests serving it over a real transport).</param>
    /// <param name="externalSuccess">Judges success instead of the latent-distance threshold (the demo: the sim's true state).</param>
    internal static async Task<int> RunAsync(RunRequest request, CancellationToken cancellationToken, Sim.SimWorkcell? workcell = null,
        Func<int, bool>? externalSuccess = null)
    {
        IConfigurationRoot configuration;
        RunSettings settings;
        try
        {
            configuration = AppConfiguration.Build(request.Overrides());
            settings = RunSettings.From(configuration);
        }
        catch (Exception e) when (e is ConfigurationValueException or InvalidOperationException or ArgumentException)
        {
            return CliErrors.Fail("run", e);
        }
        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; })
            .SetMinimumLevel(request.Verbose ? LogLevel.Debug : LogLevel.Information));
        RuntimeComponents components;
        try
        {
            components = await RuntimeBuilder.BuildAsync(settings, request.Goals, loggers, ConfigurationJson.Of(configuration), cancellationToken, workcell);
        }
        catch (OperationCanceledException)
        {
            return (int)RunOutcome.Cancelled;
        }
        catch (Exception e)
        {
            return CliErrors.Fail("run", e);
        }

        await using (components)
        {
            var loop = new ControlLoop(components, settings.Runtime, settings.Surprise, loggers.CreateLogger<ControlLoop>()) { ExternalSuccess = externalSuccess };
            var progress = new ConsoleProgress(Console.Out, request.Quiet);
            loop.CycleCompleted += progress.Report;
            progress.Header(components, settings, loop);

            var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = RobotCtlHome.Path });
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton(components);
            builder.Services.AddSingleton(loop);
            builder.Services.AddSingleton(loggers);
            builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
            builder.Services.AddSingleton<ControlLoopService>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<ControlLoopService>());
            builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(10));
            builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
            using var host = builder.Build();
            var service = host.Services.GetRequiredService<ControlLoopService>();
            await host.RunAsync(cancellationToken);
            var outcome = service.Outcome ?? RunOutcome.Cancelled;
            progress.Summary(outcome, loop, components);
            return (int)outcome;
        }
    }
}
