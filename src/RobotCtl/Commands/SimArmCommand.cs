using System.CommandLine;
using Microsoft.Extensions.Logging;
using RobotCtl.Hardware;
using RobotCtl.Hardware.Links;
using RobotCtl.Hardware.Mqtt;
using RobotCtl.Hardware.Servers;
using RobotCtl.Sim;

namespace RobotCtl.Host.Commands;

/// <summary>
/// `robotctl sim-arm`: the simulated workcell as a separate process that speaks the real arm protocol
/// (hardware/PROTOCOL.md) over a serial device or an MQTT broker, until Ctrl-C or SIGTERM. It logs every command it
/// receives with what it did with it, and a summary every few seconds.
/// </summary>
internal static class SimArmCommand
{
    public static Command Create()
    {
        var serial = new Option<string?>("--serial") { Description = "Serve on this tty (e.g. one end of a socat pty pair)" };
        var baud = new Option<int>("--baud") { Description = "Serial speed (a standard termios rate, e.g. 115200 or 1000000)", DefaultValueFactory = _ => 115200 };
        var mqtt = new Option<string?>("--mqtt")
        {
            Description = "Serve through this MQTT broker, host:port; or 'embedded[:port]' to start a broker in this process on 127.0.0.1 " +
                          "(default port 1883, loopback only, no TLS or authentication: a one-machine setup without mosquitto)",
        };
        var robotId = new Option<string?>("--robot-id") { Description = "--mqtt: the robot id (topics robotctl/<id>/...)" };
        var qos = new Option<int>("--qos") { Description = "--mqtt: QoS for state (0 or 1)", DefaultValueFactory = _ => 0 };
        qos.AcceptOnlyFromAmong("0", "1");
        var seed = new Option<int>("--seed") { Description = "Seed of the simulated scene (block pose)", DefaultValueFactory = _ => 0 };
        var scene = new Option<string?>("--scene") { Description = "Full scene string instead of --seed, e.g. seed=3,block=0.1:0.05" };
        var watchdog = new Option<int>("--watchdog-ms") { Description = "Hold when no command arrives for this long", DefaultValueFactory = _ => 250 };
        var quiet = new Option<bool>("--quiet") { Description = "Log only summaries and faults, not every command" };

        var command = new Command("sim-arm",
            "Run the simulated workcell as an arm in its own process, speaking the real protocol over --serial <tty> or --mqtt <host:port> --robot-id <id>, until Ctrl-C. " +
            "--mqtt embedded also hosts the broker, so `robotctl run --arm sim-mqtt` on the same machine needs no mosquitto.");
        foreach (var o in new Option[] { serial, baud, mqtt, robotId, qos, seed, scene, watchdog, quiet }) command.Options.Add(o);
        command.Validators.Add(c =>
        {
            // The scene string carries its own seed: a --seed beside it would be dropped without a word.
            if (c.GetResult(seed) is { Implicit: false } && c.GetResult(scene) is { Tokens.Count: > 0 })
                c.AddError("--seed and --scene: give one (put the seed in the scene string, e.g. --scene seed=3,block=0.1:0.05)");
        });
        serial.Validators.Add(r =>
        {
            // A path that does not exist yet may fairly be waited for (a pty appears when socat starts); a directory or a
            // regular file never becomes a tty.
            if (r.Tokens is not [var t]) return;
            if (Directory.Exists(t.Value)) r.AddError($"--serial {t.Value}: is a directory, expected a tty (e.g. /dev/ttyUSB0 or a socat pty)");
            else if (File.Exists(t.Value) && !IsDeviceNode(t.Value))
                r.AddError($"--serial {t.Value}: is a regular file, expected a tty (e.g. /dev/ttyUSB0 or a socat pty)");
        });
        CliErrors.Bounded(watchdog, 1, 60_000, _ => "a watchdog is meant to catch a silent link within moments");

        command.SetAction(async (r, ct) =>
        {
            var tty = r.GetValue(serial);
            var broker = r.GetValue(mqtt);
            if ((tty is null) == (broker is null))
                return Fail("give exactly one of --serial <tty> or --mqtt <host:port>");
            SimSceneOptions sceneOptions;
            try
            {
                sceneOptions = r.GetValue(scene) is { } s ? SimSceneOptions.Parse(s) : new SimSceneOptions { Seed = r.GetValue(seed) };
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                return Fail($"--scene: {e.Message}");
            }
            var serverOptions = new ArmServerOptions { Watchdog = TimeSpan.FromMilliseconds(r.GetValue(watchdog)) };

            using var loggers = LoggerFactory.Create(b => b.AddStderrConsole());
            var log = loggers.CreateLogger("sim-arm");
            var workcell = new SimWorkcell(sceneOptions);
            var logEach = !r.GetValue(quiet);
            void OnCommand(ReceivedCommand c)
            {
                if (logEach) log.LogInformation("cmd #{Sequence} {Command} {Outcome}", c.Sequence, c.Command, c.Outcome);
            }

            EmbeddedMqttBroker? embedded = null;
            try
            {
                IAsyncDisposable server;
                Func<string> summary;
                if (tty is not null)
                {
                    var options = new SerialLinkOptions { Device = tty, Baud = r.GetValue(baud) };
                    options.Validate();
                    var s = new SerialArmServer(workcell, options, serverOptions, loggers.CreateLogger<SerialArmServer>());
                    s.CommandReceived += OnCommand;
                    s.Start();
                    server = s;
                    summary = () => $"{(s.IsOpen ? "open" : "waiting for the device")}; applied {s.CommandsApplied}, stale {s.CommandsDroppedStale}, " +
                                    $"duplicate {s.CommandsDroppedDuplicate}, rejected {s.CommandsRejected}, watchdog holds {s.WatchdogHolds}, CRC errors {s.CrcErrors}";
                    log.LogInformation("simulated arm on {Device} @ {Baud} (scene seed {Seed}); Ctrl-C to stop", tty, options.Baud, sceneOptions.Seed);
                }
                else
                {
                    var id = r.GetValue(robotId);
                    if (string.IsNullOrWhiteSpace(id)) return Fail("--mqtt needs --robot-id <id>");
                    string host;
                    int port;
                    if (broker == "embedded" || broker!.StartsWith("embedded:", StringComparison.Ordinal))
                    {
                        port = 1883;
                        if (broker.Length > "embedded".Length && !(int.TryParse(broker.AsSpan("embedded:".Length), out port) && port is > 0 and <= 65535))
                            return Fail($"--mqtt: expected embedded or embedded:<port 1-65535>, found '{broker}'");
                        embedded = await EmbeddedMqttBroker.StartAsync(port, loggers.CreateLogger<EmbeddedMqttBroker>(), ct);
                        host = "127.0.0.1";
                    }
                    else if (!TryParseEndpoint(broker, out host, out port)) return Fail($"--mqtt: expected host:port with a port 1-65535 (e.g. 127.0.0.1:1883) or embedded[:port], found '{broker}'");
                    var options = new MqttLinkOptions { Host = host, Port = port, RobotId = id, Qos = r.GetValue(qos) };
                    options.Validate();
                    var m = new MqttArmServer(workcell, options, serverOptions, loggers.CreateLogger<MqttArmServer>());
                    m.CommandReceived += OnCommand;
                    m.Start();
                    server = m;
                    summary = () => $"{(m.IsConnected ? "connected" : $"not connected ({m.LastError})")}; applied {m.CommandsApplied}, stale {m.CommandsDroppedStale}, " +
                                    $"duplicate {m.CommandsDroppedDuplicate}, rejected {m.CommandsRejected}, watchdog holds {m.WatchdogHolds}";
                    log.LogInformation("simulated arm {Id} via mqtt {Host}:{Port} (topics {Prefix}/#, scene seed {Seed}); Ctrl-C to stop", id, host, port, options.TopicPrefix, sceneOptions.Seed);
                }

                await using (server)
                {
                    try
                    {
                        while (true)
                        {
                            await Task.Delay(TimeSpan.FromSeconds(5), ct);
                            log.LogInformation("{Summary}; effector at {State}", summary(), Describe(workcell));
                        }
                    }
                    catch (OperationCanceledException)
                    {
                        log.LogInformation("stopping: {Summary}", summary());
                    }
                }
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or IOException)
            {
                return Fail(e.Message);
            }
            finally
            {
                if (embedded is not null) await embedded.DisposeAsync();
            }
        });
        return command;
    }

    private static string Describe(SimWorkcell w)
    {
        var s = w.CurrentState;
        return $"x {s.X:+0.000;-0.000} y {s.Y:+0.000;-0.000} z {s.Z:+0.000;-0.000} yaw {s.Yaw:+0.00;-0.00} gripper {s.Gripper:0.00}";
    }

    private static bool TryParseEndpoint(string text, out string host, out int port)
    {
        host = ""; port = 0;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), out port) || port is < 1 or > 65535) return false;
        host = text[..colon];
        return true;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"robotctl sim-arm: {message}");
        return ExitCodes.BadInput;
    }

    /// <summary>
    /// Whether <paramref name="path"/> (or what its links finally point to, as with socat's link=) is under /dev, where
    /// every tty and pty lives. .NET reports no file type beyond directory and link, and opening a tty to ask it would
    /// toggle DTR (resetting many boards), so the location is the check.
    /// </summary>
    private static bool IsDeviceNode(string path)
    {
        var target = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path);
        return target.StartsWith("/dev/", StringComparison.Ordinal);
    }
}
