using System.CommandLine;
using RobotCtl.Core.Vision;
using RobotCtl.Runtime.Composition;
using RobotCtl.Runtime;
using RobotCtl.Runtime.Devices;
using RobotCtl.Sim;
using RobotCtl.Sim.Tasks;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Host.Commands;

/// <summary>
/// `robotctl demo`: the whole loop in one command, on the simulated workcell. It photographs the scene as it should
/// end up (the effector moved to a target), then runs the closed loop toward that goal image and records the episode.
/// With the simulated rig and its own goal, success is judged as the `reach` task judges it: on the simulator's true
/// state, the effector within the task's radius of where the goal image shows it.
/// </summary>
internal static class DemoCommand
{
    /// <summary>The demo's start and goal scenes: the same block (placed explicitly: a drawn block would avoid the effector differently in each), the effector elsewhere, both at the tasks' working height.</summary>
    public const string StartScene = "seed=7,block=0.15:-0.12:0.3,ee=-0.12:-0.12:0.02";
    public const string GoalScene = "seed=7,block=0.15:-0.12:0.3,ee=0.1:0.08:0.02";

    /// <summary>Cycles the demo allows by default: the reach task's budget of 80 commands at 5 per cycle.</summary>
    private const int DefaultMaxSteps = 16;

    public static Command Create()
    {
        var options = new RunCommandOptions();
        var goalScene = new Option<string>("--goal-scene") { Description = "Scene photographed as the goal", DefaultValueFactory = _ => GoalScene };
        var command = new Command("demo",
            "Show the whole loop on the simulated workcell: take a goal snapshot of the scene as it should end up " +
            "(the effector moved to a target), then run camera -> world model -> CEM planner -> safety governor -> arm " +
            "toward it, printing each cycle, and record the episode for `robotctl replay`. Accepts every `run` option.");
        options.AddTo(command, goalRequired: false);
        command.Options.Add(goalScene);
        command.SetAction(async (r, ct) =>
        {
            var request = options.Read(r);
            var goals = request.Goals;
            if (goals.Count == 0)
            {
                try
                {
                    // Outputs first: nothing is photographed for a run that cannot record.
                    if (request.Record is { } record) OutputPaths.RequireWritableDirectory("--record", RobotCtlHome.Resolve(record));
                    var path = Path.Combine(RobotCtlHome.Path, "artifacts", "demo", "goal.png");
                    OutputPaths.RequireWritableFile("goal snapshot", path, createParent: true);
                    SnapshotGoal(r.GetValue(goalScene)!, path);
                    Console.WriteLine($"robotctl demo: goal snapshot of scene \"{r.GetValue(goalScene)}\" saved to {path}");
                    goals = [path];
                }
                catch (Exception e) when (e is FormatException or ArgumentException or IOException)
                {
                    return CliErrors.Fail("demo", e);
                }
            }
            var simRig = request.Camera is null && request.Arm is null;
            var startScene = request.SimScene ?? StartScene;
            SimWorkcell? workcell = null;
            Func<double>? error = null;
            var radius = SimTask.Get("reach").SuccessRadius;
            if (simRig && request.Goals.Count == 0)
            {
                try
                {
                    var cell = new SimWorkcell(SimSceneOptions.Parse(startScene));
                    var target = SimSceneOptions.Parse(r.GetValue(goalScene)!);
                    error = () =>
                    {
                        var s = cell.CurrentState;
                        return Math.Sqrt((s.X - target.EeX) * (s.X - target.EeX) + (s.Y - target.EeY) * (s.Y - target.EeY));
                    };
                    workcell = cell;
                }
                catch (Exception e) when (e is FormatException or ArgumentException)
                {
                    return CliErrors.Fail("demo", e);
                }
            }
            var exit = await RunCommand.RunAsync(request with
            {
                Goals = goals,
                Sim = simRig,
                SimScene = startScene,
                MaxSteps = request.MaxSteps ?? DefaultMaxSteps,
            }, ct, workcell is null ? null : new RunWorld().With(workcell), error is null ? null : _ => error() <= radius);
            if (error is not null)
            {
                var cm = error() * 100;
                Console.WriteLine(exit == ExitCodes.Success
                    ? $"robotctl demo: goal reached: the effector is {cm:F1} cm from where the goal image shows it (success radius {radius * 100:F1} cm)"
                    : $"robotctl demo: goal not reached: the effector ended {cm:F1} cm from where the goal image shows it (success radius {radius * 100:F1} cm)");
            }
            return exit;
        });
        return command;
    }

    private static void SnapshotGoal(string scene, string path)
    {
        var settings = RunSettings.From(AppConfiguration.Build());
        var workcell = new SimWorkcell(SimSceneOptions.Parse(scene));
        var renderer = new SimRenderer(new SimRenderOptions { Width = settings.Sim.Width, Height = settings.Sim.Height });
        var frame = new Frame(settings.Sim.Width, settings.Sim.Height);
        renderer.Render(workcell, frame);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        ImageIo.SavePng(path, frame);
    }
}
