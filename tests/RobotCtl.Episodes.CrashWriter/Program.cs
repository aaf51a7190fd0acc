using RobotCtl.Core.Arm;
using RobotCtl.Core.Vision;
using RobotCtl.Episodes;
using RobotCtl.Episodes.CrashWriter;

// Usage: RobotCtl.Episodes.CrashWriter <directory> [--stop-after STEP] [--hang-at opened|application_id|schema]
// Records full steps (frame, latent, plan, command, state, surprise, timings) every ~2 ms, forever, and prints
// "path <file>" once, then "committed <step>" each time the last committed step changes and "checkpointed <step>" each
// time the last step in the .sqlite file itself changes. The test kills it with SIGKILL.
// --stop-after: records steps 0..STEP, then stays alive without recording (the recorder goes idle, checkpoints, and
// nothing is written after that: the test can kill it at a known state).
// --hang-at: stops inside EpisodeRecorder.Create at that stage, prints "stage <stage> <file>", and waits to be killed.
string? directory = null;
long stopAfter = long.MaxValue;
string? hangAt = null;
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--stop-after" && i + 1 < args.Length) stopAfter = long.Parse(args[++i]);
    else if (args[i] == "--hang-at" && i + 1 < args.Length) hangAt = args[++i];
    else if (directory is null && !args[i].StartsWith("--")) directory = args[i];
    else
    {
        Console.Error.WriteLine("usage: RobotCtl.Episodes.CrashWriter <directory> [--stop-after STEP] [--hang-at opened|application_id|schema]");
        return 2;
    }
}
if (directory is null)
{
    Console.Error.WriteLine("usage: RobotCtl.Episodes.CrashWriter <directory> [--stop-after STEP] [--hang-at opened|application_id|schema]");
    return 2;
}
if (hangAt is not null)
{
    EpisodeStore.CreationStage = (stage, file) =>
    {
        if (stage != hangAt) return;
        Console.WriteLine($"stage {stage} {file}");
        Thread.Sleep(Timeout.Infinite);
    };
}
var recorder = EpisodeRecorder.Create(directory, new EpisodeMetadata { Source = "crash", Model = "test", Seed = 7 }, new RawBgrFrameEncoder());
Console.WriteLine($"path {recorder.Path}");
var frame = new Frame(32, 24);
var chunk = new float[5 * 7];
var costs = new float[3];
var latent = new float[192];
long reported = -1, reportedCheckpoint = -1;
var options = new EpisodeRecorderOptions();
for (long step = 0; ; step++)
{
    if (step <= stopAfter)
    {
        // Back-pressure instead of outrunning the writer: under load a full frame pool would drop a frame (a counted
        // gap), and the test asserts every step is complete. Losing nothing after kill -9 is what it measures.
        while (recorder.FramesInFlight >= options.MaxFramesInFlight - 2 || recorder.PendingRecords >= options.QueueCapacity - 16) Thread.Sleep(1);
        StepContent.Fill(frame, latent, chunk, costs, step);
        recorder.RecordFrame(step, frame);
        recorder.RecordLatent(step, LatentKind.Observed, latent, [1, 192]);
        recorder.RecordPlan(step, new PlanRecord { Planner = "cem", Chunk = chunk, ChunkShape = [5, 7], CostPerIteration = costs, Iterations = 3, Seed = step, FinalCost = costs[^1] });
        recorder.RecordCommand(step, StepContent.Command(step), StepContent.Command(step));
        recorder.RecordArmState(step, StepContent.State(step));
        recorder.RecordSurprise(step, step * 0.5f);
        recorder.RecordTimings(step, new StepTimings(1, 2, 3, 4, 5, 6, step));
    }
    var committed = recorder.LastCommittedStep;
    if (committed != reported)
    {
        Console.WriteLine($"committed {committed}");
        reported = committed;
    }
    var checkpointed = recorder.LastCheckpointedStep;
    if (checkpointed != reportedCheckpoint)
    {
        Console.WriteLine($"checkpointed {checkpointed}");
        reportedCheckpoint = checkpointed;
    }
    Thread.Sleep(2);
}
