using System.CommandLine;
using System.CommandLine.Parsing;
using RobotCtl.Runtime;

namespace RobotCtl.Host.Commands;

/// <summary>The options `run` and `demo` share.</summary>
internal sealed class RunCommandOptions
{
    public readonly Option<string[]> Goal = new("--goal") { Description = "Goal image (PNG/JPEG/BMP); repeat for a chain of sub-goals, in order", AllowMultipleArgumentsPerToken = true };
    public readonly Option<bool> Sim = new("--sim") { Description = "Use the simulated workcell as camera and arm (same as --camera sim --arm sim)" };
    public readonly Option<string?> Model = new("--model") { Description = "Model directory (model.json + encoder.onnx + predictor.onnx) [Runtime:Model]" };
    public readonly Option<string?> Camera = new("--camera") { Description = "Camera source: sim, /dev/video0 or an index, a video file, an image directory, rtsp://..., gst:<pipeline> [Runtime:Camera]" };
    public readonly Option<string?> Arm = new("--arm") { Description = "Arm: sim, or an arm profile name under hardware/profiles/ or a profile file [Runtime:Arm]" };
    public readonly Option<string?> Calibration = new("--calibration") { Description = "Rig calibration directory [Runtime:Calibration]" };
    public readonly Option<string?> Record = new("--record") { Description = "Record the episode into this directory [Recording:Directory]" };
    public readonly Option<bool> NoRecord = new("--no-record") { Description = "Do not record an episode" };
    public readonly Option<int?> MaxSteps = new("--max-steps") { Description = "Replanning cycles before giving up [Runtime:MaxSteps]" };
    public readonly Option<int?> Seed = new("--seed") { Description = "Planner seed; cycle n plans with seed + n [Runtime:Seed]" };
    public readonly Option<ReplanMode?> Replan = new("--replan") { Description = "blocking (execute, then plan) or overlapped (plan while the tail executes) [Runtime:ReplanMode]" };
    public readonly Option<double?> DeadlineMs = new("--deadline-ms") { Description = "Planner deadline per plan, ms [Planner:DeadlineMs]" };
    public readonly Option<int?> Samples = new("--samples") { Description = "Planner samples [Planner:Samples]" };
    public readonly Option<int?> Iterations = new("--iterations") { Description = "Planner iterations [Planner:Iterations]" };
    public readonly Option<string?> CostShape = new("--cost-shape") { Description = "How each horizon step's distance to the goal counts: last (LeWM), sum, or w1,w2,... one per horizon step [Planner:CostShape]" };
    public readonly Option<string?> SimScene = new("--sim-scene") { Description = "Simulated scene, e.g. \"seed=3,block=0.1:0.05\" [Sim:Scene]" };
    public readonly Option<string[]> Set = new("--set") { Description = "Any setting, Section:Key=Value (repeatable), e.g. --set Surprise:StopFactor=20", AllowMultipleArgumentsPerToken = false };
    public readonly Option<bool> Quiet = new("--quiet", "-q") { Description = "Only the summary, no per-cycle progress" };
    public readonly Option<bool> Verbose = new("--verbose", "-v") { Description = "Debug logging" };

    public RunCommandOptions()
    {
        // --goal takes several values per token, so a mistyped option after it would otherwise be read as an image path.
        CliErrors.ValidateImageFiles(Goal);
        // Paths named by an option are checked here, so that the message names the option and says what kind of path
        // was expected, before the model is loaded.
        CliErrors.ValidateDirectory(Model, "a model directory (model.json, encoder.onnx, predictor.onnx)");
        CliErrors.ValidateDirectory(Calibration, "a rig calibration directory");
        NoRecord.Validators.Add(r =>
        {
            // A flag has a result even when not given (its default); only a given --no-record contradicts --record.
            if (!r.Implicit && r.GetValueOrDefault<bool>() && r.Parent is CommandResult c && c.GetResult(Record) is { Tokens.Count: > 0 })
                r.AddError($"{Record.Name} and {NoRecord.Name}: give one (record into a directory, or not at all)");
        });
        Sim.Validators.Add(r =>
        {
            // --sim is --camera sim --arm sim: with another camera or arm beside it one of the two was silently dropped.
            if (r.Implicit || !r.GetValueOrDefault<bool>() || r.Parent is not CommandResult c) return;
            foreach (var other in new[] { Camera, Arm })
                if (c.GetResult(other) is { Tokens: [var t] } && t.Value != RuntimeOptions.Sim)
                    r.AddError($"{Sim.Name} and {other.Name} {t.Value}: {Sim.Name} means --camera sim --arm sim; leave it out and give --camera and --arm");
        });
        Record.Validators.Add(r =>
        {
            if (r.Tokens is [var t] && File.Exists(Path.GetFullPath(t.Value)))
                r.AddError($"{Record.Name} {t.Value}: is a file, expected a directory for the episode");
        });
        Camera.Validators.Add(r =>
        {
            // Only what is clearly a local path: indices, sim, rtsp://... and gst:... are the camera factory's to judge.
            if (r.Tokens is [var t] && CliErrors.IsMissingLocalPath(t.Value))
                r.AddError($"{Camera.Name} {t.Value}: no such video file or image directory");
        });
        SimScene.Validators.Add(r =>
        {
            if (r.Tokens is not [var t]) return;
            try
            {
                RobotCtl.Sim.SimSceneOptions.Parse(t.Value);
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                r.AddError($"{SimScene.Name}: {e.Message}");
            }
        });
        CliErrors.Bounded(MaxSteps, 1);
        CliErrors.PlannerSizes(samples: Samples, iterations: Iterations);
        CliErrors.NotBlank(CostShape, "last, sum or w1,w2,... (leave the option out for the model's planner.cost_shape)");
        foreach (var path in new[] { Model, Camera, Arm, Calibration, Record }) CliErrors.NotBlank(path, "a path or a name");
        DeadlineMs.Validators.Add(r =>
        {
            if (CliErrors.DoubleValue(r) is { } v && !(v is >= 0 and <= RuntimeOptions.MaxMs))
                r.AddError($"{DeadlineMs.Name}: expected [0, {RuntimeOptions.MaxMs}] ms, found {v.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        });
    }

    public void AddTo(Command command, bool goalRequired = true)
    {
        Goal.Required = goalRequired;
        foreach (var option in new Option[] { Goal, Sim, Model, Camera, Arm, Calibration, Record, NoRecord, MaxSteps, Seed, Replan, DeadlineMs, Samples, Iterations, CostShape, SimScene, Set, Quiet, Verbose })
            command.Options.Add(option);
    }

    public RunRequest Read(ParseResult r) => new()
    {
        Goals = r.GetValue(Goal) ?? [],
        Sim = r.GetValue(Sim),
        Model = r.GetValue(Model),
        Camera = r.GetValue(Camera),
        Arm = r.GetValue(Arm),
        Calibration = r.GetValue(Calibration),
        Record = r.GetValue(Record),
        NoRecord = r.GetValue(NoRecord),
        MaxSteps = r.GetValue(MaxSteps),
        Seed = r.GetValue(Seed),
        Replan = r.GetValue(Replan),
        DeadlineMs = r.GetValue(DeadlineMs),
        Samples = r.GetValue(Samples),
        Iterations = r.GetValue(Iterations),
        CostShape = r.GetValue(CostShape),
        SimScene = r.GetValue(SimScene),
        Sets = r.GetValue(Set) ?? [],
        Quiet = r.GetValue(Quiet),
        Verbose = r.GetValue(Verbose),
    };
}
