using System.CommandLine;
using RobotCtl.Runtime;
using RobotCtl.Runtime.Composition;

namespace RobotCtl.Host.Commands;

/// <summary>
/// `robotctl estop [--release]`: latches (or releases) every running robotctl runtime of this user through its local
/// control socket (<see cref="ControlEndpoint"/>). Exit 0 when at least one runtime answered ok; 1 when none is
/// running (not bad input, which is 2: an e-stop that reached nothing must not look done to a script) or a runtime
/// refused or failed to answer. The sockets of runs that died without closing them (kill -9) are removed and named.
/// </summary>
internal static class EStopCommand
{
    public const int NoRuntime = ExitCodes.Failed;

    private const int MaxReason = 500;

    public static Command Create()
    {
        var release = new Option<bool>("--release") { Description = "Release the e-stop (re-arm the governor and the arm side); the only way out of a latch" };
        var socket = new Option<string?>("--socket") { Description = "A runtime's control socket, or the directory of them [Safety:ControlDirectory; default $XDG_RUNTIME_DIR/robotctl, else <home>/run]" };
        var reason = new Option<string?>("--reason") { Description = "Why, recorded in the episode's e-stop event" };
        var command = new Command("estop",
            "Emergency stop for running `robotctl run`/`demo` processes of this user: latches the safety governor (the arm " +
            "holds; nothing but holds is sent) and the arm side's own latch, recorded in the episode. It stays latched until " +
            "`robotctl estop --release`. Reaches each runtime over its local Unix socket (mode 0600); the socket a killed run left " +
            "behind is removed. Exit codes: 0 done, 1 no runtime running or one did not answer, 2 bad input.")
        {
            release, socket, reason,
        };
        socket.Validators.Add(r =>
        {
            // A file given as --socket must be a control socket: anything else would be "connected to" and then left.
            if (r.Tokens is [var t] && File.Exists(RobotCtlHome.Resolve(t.Value)) && !ControlEndpoint.IsSocketName(t.Value))
                r.AddError($"--socket {t.Value}: expected a runtime's control socket (robotctl-<pid>-<n>.sock) or the directory of them");
        });
        reason.Validators.Add(r =>
        {
            // The reason travels on the control socket's one request line and into the episode's event.
            if (r.Tokens is [var t] && (t.Value.Length > MaxReason || t.Value.Any(char.IsControl)))
                r.AddError($"--reason: expected one line of at most {MaxReason} characters, found {t.Value.Length} characters{(t.Value.Any(char.IsControl) ? " with control characters (a line break?)" : "")}");
        });
        command.SetAction((r, ct) => RunAsync(r.GetValue(release), r.GetValue(socket), r.GetValue(reason), ct));
        return command;
    }

    internal static async Task<int> RunAsync(bool release, string? socket, string? reason, CancellationToken cancellationToken)
    {
        string where;
        if (socket is not null) where = Path.GetFullPath(RobotCtlHome.Resolve(socket));
        else
        {
            // Only the Safety section matters here: a bad value elsewhere in the settings must not stop an e-stop.
            string? configured = null;
            try
            {
                configured = AppConfiguration.Bind<SafetyOptions>(AppConfiguration.Build(), SafetyOptions.SectionName).ControlDirectory;
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or ConfigurationValueException)
            {
                Console.Error.WriteLine($"robotctl estop: settings unreadable ({e.Message}); using the default control directory");
            }
            where = ControlEndpoint.DirectoryFor(configured);
        }
        var request = release ? "release" : string.IsNullOrWhiteSpace(reason) ? "estop" : $"estop {reason}";
        var reached = 0;
        var failed = 0;
        var stale = new List<string>();
        foreach (var path in ControlEndpoint.FindSockets(where))
        {
            string? reply;
            try
            {
                reply = await ControlEndpoint.RequestAsync(path, request, TimeSpan.FromSeconds(5), cancellationToken);
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"robotctl estop: {e.Message}");
                failed++;
                continue;
            }
            if (reply is null)
            {
                // Nothing listens: a run killed with -9 left it (removed), or a run is just starting or stopping.
                if (!File.Exists(path)) continue; // its run ended meanwhile and removed it
                if (ControlEndpoint.TryRemoveStale(path, out var what)) stale.Add($"{Path.GetFileName(path)}: {what}");
                else
                {
                    Console.Error.WriteLine($"robotctl estop: {path}: nothing answers (expected a running runtime); left in place because {what}");
                    failed++;
                }
                continue;
            }
            if (reply.StartsWith("ok ", StringComparison.Ordinal))
            {
                Console.WriteLine($"robotctl estop: {reply[3..]}");
                reached++;
            }
            else
            {
                Console.Error.WriteLine($"robotctl estop: {path}: {reply}");
                failed++;
            }
        }
        var removed = stale.Count == 0 ? null : $"removed the control socket(s) that dead runs left in {where} ({string.Join("; ", stale)})";
        if (reached == 0 && failed == 0)
        {
            Console.Error.WriteLine($"robotctl estop: no robotctl run is alive, nothing was stopped: " +
                                    (removed ?? $"no control socket in {where}"));
            return NoRuntime;
        }
        if (removed is not null) Console.Error.WriteLine($"robotctl estop: {removed}");
        return failed == 0 ? 0 : NoRuntime;
    }
}
