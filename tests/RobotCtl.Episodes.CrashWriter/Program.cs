using RobotCtl.Core.Arm;
using RobotCtl.Core.Vision;
using RobotCtl.Episodes;
using RobotCtl.Episodes.CrashWriter;

// Usage: RobotCtl.Episodes.CrashWriter <directory>
// Records full steps (frame, latent, plan, command, state, surprise, timings) every ~2 ms, forever, and prints
// "path <file>" once, then "committed <step>" each time the last committed step changes. The test kills it with SIGKILL.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: RobotCtl.Episodes.CrashWriter <directory>");
    return 2;
}
var recorder = EpisodeRecorder.Create(args[0], new EpisodeMetadata { Source = "crash", Model = "test", Seed = 7 }, new RawBgrFrameEncoder());
Console.WriteLine($"path {recorder.Path}");
var frame = new Frame(32, 24);
var chunk = new float[5 * 7];
var costs = new float[3];
var latent = new float[192];
long reported = -1;
var options = new EpisodeRecorderOptions();
for (long step = 0; ; step++)
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
    var committed = recorder.LastCommittedStep;
    if (committed != reported)
    {
        Console.WriteLine($"committed {committed}");
        reported = committed;
    }
    Thread.Sleep(2);
}
