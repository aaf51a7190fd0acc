using System.CommandLine;
using RobotCtl.Host.Commands;
using RobotCtl.Host.Composition;
using RobotCtl.Runtime.Composition;

// The home (settings, models, calibration) is this host's decision, made before any command composes a run.
RobotCtlHome.Use(HomeFolder.Find());

// robotctl: the composition root. Each command group lives in Commands/; this file only assembles them.
var root = new RootCommand(
    "robotctl: a real-time robot control runtime that plans in the latent space of a JEPA world model " +
    "(LeWM, V-JEPA 2-AC) and streams 7-D end-effector commands to an arm, or to the simulated workcell. " +
    "Start with `robotctl demo`.");
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(EStopCommand.Create());
root.Subcommands.Add(DashboardCommand.Create());
root.Subcommands.Add(ReplayCommand.Create());
root.Subcommands.Add(EpisodesCommands.Create());
root.Subcommands.Add(PlanCommand.Create());
root.Subcommands.Add(ModelCommands.Create());
root.Subcommands.Add(SnapshotCommand.Create());
root.Subcommands.Add(CalibrateCommands.Create());
root.Subcommands.Add(SimArmCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(CollectCommand.Create());
var parse = root.Parse(args);
// Bad input exits 2 with one line naming the option (the help says so); --help still wins over errors.
if (parse.Errors.Count > 0 && parse.Action is not System.CommandLine.Help.HelpAction)
    return CliErrors.ParseFailed(parse);
return await parse.InvokeAsync();
