using System.CommandLine;
using RobotCtl.Core.Vision;
using RobotCtl.Host.Composition;
using RobotCtl.Host.Runtime;
using RobotCtl.Sim;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Host.Commands;

/// <summary>
/// `robotctl demo`: the whole loop in one command, on the simulated workcell. It photographs the scene as it should
/// end up (the effector moved to a target), then runs the closed loop toward that goal image and records the episode.
/// </summary>
internal static class DemoCommand
{
    /// <summary>The demo's start and goal scenes: the same table and block, the effector somewhere else.</summary>
    public const string StartScene = "seed=7,ee=-0.12:-0.12:0.03";
    public const string GoalScene = "seed=7,ee=0.1:0.08:0.03";

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
                    var path = Path.Combine(RobotCtlHome.Path, "artifacts", "demo", "goal.png");
                    SnapshotGoal(r.GetValue(goalScene)!, path);
                    Console.WriteLine($"robotctl demo: goal snapshot of scene \"{r.GetValue(goalScene)}\" saved to {path}");
                    goals = [path];
                }
                catch (Exception e) when (e is FormatException or ArgumentException or IOException)
                {
                    return CliErrors.Fail("demo", e);
                }
            }
            var exit = await RunCommand.RunAsync(request with
            {
                Goals = goals,
                Sim = request.Camera is null && request.Arm is null,
                SimScene = request.SimScene ?? StartScene,
                MaxSteps = request.MaxSteps ?? 12,
            }, ct);
            // The demo shows the loop working: a run that used its step budget without a fault is a working demo
            // (the random-weight example model is not expected to reach the goal).
            if (exit == (int)RunOutcome.StepBudgetExhausted)
            {
                Console.WriteLine("robotctl demo: the loop ran every step; the example model has random weights, so reaching the goal is not expected (see models/README.md)");
                return 0;
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
