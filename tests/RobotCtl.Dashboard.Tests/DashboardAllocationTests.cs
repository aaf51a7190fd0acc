using RobotCtl.Runtime;

namespace RobotCtl.Dashboard.Tests;

/// <summary>
/// The control loop's 0 B per cycle (tests/RobotCtl.Host.Tests/ControlLoopAllocationTests.cs) holds with a dashboard
/// attached and clients reading it throughout: the page's event stream, the camera image and the status.
/// </summary>
[Trait("Category", "Slow")]
public class DashboardAllocationTests
{
    [Fact]
    public async Task A_control_cycle_allocates_nothing_with_the_dashboard_attached_and_read()
    {
        using var dir = new TempDir();
        const int steps = ControlLoop.WarmupCycles + 6;
        var request = TestHome.SmallRun(TestScenes.GoalImage(dir.Path, TestSupport.GoalScene), dir.File("episodes"), steps);
        // As in the host's allocation test: surprise events (rare log lines that allocate their message) kept out of reach.
        request = request with { Sets = [.. request.Sets, "Surprise:ReplanFactor=1e9", "Surprise:PauseFactor=1e9", "Surprise:StopFactor=1e9"] };
        long reads = 0, seen = 0;
        // Each cycle waits (in the success hook, on the loop thread, without allocating) until the HTTP side has
        // served something since the previous cycle, so reads and cycles are certain to interleave.
        bool WaitForARead(int goalIndex)
        {
            var deadline = Environment.TickCount64 + 30_000;
            while (Interlocked.Read(ref reads) == seen && Environment.TickCount64 < deadline) Thread.Sleep(1);
            seen = Interlocked.Read(ref reads);
            return false;
        }
        await using var run = await LiveRunHarness.StartAsync(request, startLoop: false, externalSuccess: WaitForARead);

        using var stop = new CancellationTokenSource();
        async Task Poll(string path)
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await run.Http.GetAsync(path, stop.Token);
                    await response.Content.ReadAsByteArrayAsync(stop.Token);
                    if (response.IsSuccessStatusCode) Interlocked.Increment(ref reads);
                }
                catch (OperationCanceledException) { }
            }
        }
        async Task Events()
        {
            try
            {
                using var stream = await run.Http.GetStreamAsync("/api/events", stop.Token);
                using var reader = new StreamReader(stream);
                while (await reader.ReadLineAsync(stop.Token) is { } line)
                    if (line.StartsWith("data: ", StringComparison.Ordinal)) Interlocked.Increment(ref reads);
            }
            catch (OperationCanceledException) { }
        }
        var clients = new[] { Poll("/api/camera.jpg"), Poll("/api/status"), Events() };

        run.StartLoop();
        var outcome = await run.Run.WaitAsync(TestSupport.Generous);
        await stop.CancelAsync();
        await Task.WhenAll(clients).WaitAsync(TestSupport.Generous);

        Assert.True(outcome == RunOutcome.StepBudgetExhausted, $"{outcome}: {run.Loop.OutcomeMessage}");
        Assert.True(Interlocked.Read(ref reads) >= steps, $"only {reads} dashboard reads during {steps} cycles");
        Assert.Equal(steps, run.Loop.Step);
        Assert.True(run.Loop.SteadyAllocatedBytes == 0 && run.Loop.CountedCycles > 0, run.Loop.AllocationReport());
        // The dashboard's copy runs in CycleCompleted, after the loop's own accounting: it is measured by itself.
        var snapshot = run.Live!.Snapshot;
        Assert.Equal(steps - ControlLoop.WarmupCycles, snapshot.SteadyCycles + snapshot.UncertainCycles);
        Assert.True(snapshot.SteadyCycles > 0, $"every cycle of the dashboard's copy was crossed by a GC ({snapshot.UncertainCycles})");
        Assert.True(snapshot.SteadyAllocatedBytes == 0, $"the dashboard's per-cycle copy allocated {snapshot.SteadyAllocatedBytes} B on the loop thread");
    }
}
