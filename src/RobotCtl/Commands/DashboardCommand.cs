using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using RobotCtl.Dashboard;
using RobotCtl.Episodes;
using RobotCtl.Runtime;
using RobotCtl.Runtime.Composition;

namespace RobotCtl.Host.Commands;

/// <summary>
/// `robotctl dashboard`: the episode browser without a robot; and the helpers `run --dashboard` uses to serve the live
/// page next to its loop. The address and token come from the options, else the "Dashboard" configuration section.
/// </summary>
internal static class DashboardCommand
{
    public static Command Create()
    {
        var dir = new Option<string?>("--dir") { Description = $"Episode directory [default {EpisodeCatalog.DefaultDirectory}]" };
        var listen = ListenOption();
        var token = TokenOption();
        var command = new Command("dashboard",
            "Serve the episode browser (a list of episodes; per episode a scrubber over its steps: frame, goal, plan costs, " +
            "commands, events, surprise) and its JSON API, until Ctrl-C. Loopback only unless a token is given. " +
            "`robotctl run --dashboard` serves the live page of a running loop instead. Exit codes: 0 stopped, 2 bad input.")
        {
            dir, listen, token,
        };
        CliErrors.ValidateDirectory(dir, "an episode directory");
        command.SetAction((r, ct) => ServeAsync(r.GetValue(dir) ?? EpisodeCatalog.DefaultDirectory, r.GetValue(listen), r.GetValue(token), ct));
        return command;
    }

    public static Option<string?> ListenOption() => new("--listen")
    {
        Description = $"Dashboard address HOST:PORT (port 0: any free port) [Dashboard:Listen; default {DashboardOptions.DefaultListen}]; a non-loopback address needs a token",
    };

    public static Option<string?> TokenOption() => new("--token")
    {
        Description = "Dashboard token: every request must carry it (Authorization: Bearer, or ?token= on GET) [Dashboard:Token]",
    };

    /// <summary>The dashboard's settings: options over the "Dashboard" section; throws when they cannot be served safely.</summary>
    public static DashboardOptions Options(IConfiguration configuration, string? listen, string? token, string? episodes)
    {
        var section = configuration.GetSection(DashboardOptions.SectionName);
        var options = new DashboardOptions
        {
            Listen = listen ?? section["Listen"] ?? DashboardOptions.DefaultListen,
            Token = token ?? section["Token"],
            EpisodesDirectory = episodes,
            // Uploaded and snapshot goal images go here and nowhere else.
            GoalDirectory = Path.GetFullPath(RobotCtlHome.Resolve(section["GoalDirectory"] ?? "goals")),
        };
        // Checked here, before a model is loaded or the arm is opened: an unsafe address never gets a running loop.
        var address = ListenAddress.Parse(options.Listen);
        if (!address.IsLoopback && string.IsNullOrEmpty(options.Token))
            throw new DashboardConfigurationException(
                $"--listen {options.Listen}: not a loopback address; serving the dashboard beyond this machine needs a token (--token or Dashboard:Token)");
        address.EnsureBindable(options.Listen);
        return options;
    }

    private static async Task<int> ServeAsync(string directory, string? listen, string? token, CancellationToken cancellationToken)
    {
        DashboardOptions options;
        try
        {
            options = Options(AppConfiguration.Build(), listen, token, Path.GetFullPath(RobotCtlHome.Resolve(directory)));
        }
        catch (Exception e) when (e is DashboardConfigurationException or InvalidOperationException)
        {
            return CliErrors.Fail("dashboard", e);
        }
        DashboardServer server;
        try
        {
            server = await DashboardServer.StartAsync(options, live: null, cancellationToken: cancellationToken);
        }
        catch (DashboardConfigurationException e)
        {
            return CliErrors.Fail("dashboard", e);
        }
        await using (server)
        {
            Console.WriteLine($"dashboard: {server.PageUrl(options.Token)} (episodes in {options.EpisodesDirectory}); Ctrl-C to stop");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
        }
        return 0;
    }

    /// <summary>Starts the live dashboard of a run (`run --dashboard`) and says where it is.</summary>
    public static async Task<DashboardServer> StartLiveAsync(DashboardOptions options, ControlSession session,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var live = new LiveRun(session);
        try
        {
            var server = await DashboardServer.StartAsync(options, live, loggers, cancellationToken);
            // The address is a result (tests and scripts read it), so stdout; the token is not repeated in logs.
            Console.WriteLine($"dashboard: {server.PageUrl(options.Token)}");
            return server;
        }
        catch
        {
            live.Dispose();
            throw;
        }
    }
}
