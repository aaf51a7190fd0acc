using System.Diagnostics;
using RobotCtl.Episodes.CrashWriter;

namespace RobotCtl.Episodes.Tests;

public class CrashDurabilityTests
{
    [Fact]
    public void Kill_9_mid_episode_leaves_every_committed_step_readable()
    {
        using var dir = new TempDir();
        var writer = Repo.SiblingOutput("RobotCtl.Episodes.CrashWriter", "RobotCtl.Episodes.CrashWriter.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(writer);
        psi.ArgumentList.Add(dir.Path);
        using var child = Process.Start(psi)!;
        string? path = null;
        long committed = -1;
        try
        {
            var deadline = Stopwatch.StartNew();
            while (committed < 40)
            {
                var line = child.StandardOutput.ReadLine()
                    ?? throw new Xunit.Sdk.XunitException($"crash writer exited early: {child.StandardError.ReadToEnd()}");
                if (line.StartsWith("path ")) path = line[5..];
                else if (line.StartsWith("committed ")) committed = long.Parse(line[10..]);
                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "crash writer made no progress in 60 s");
            }
        }
        finally
        {
            child.Kill(); // SIGKILL on Linux: no managed shutdown, no flush, no checkpoint
            child.WaitForExit();
        }
        Assert.Equal(137, child.ExitCode); // 128 + SIGKILL
        Assert.NotNull(path);
        Assert.True(File.Exists(path + "-wal"), "a killed recorder leaves its write-ahead log behind");

        using var reader = EpisodeReader.Open(path);
        Assert.Null(reader.Info.EndTicks);
        Assert.Null(reader.Info.Success);
        Assert.False(EpisodeSummary.Of(reader).Finished);
        var steps = reader.Steps().Select(s => s.Step).ToArray();
        Assert.True(steps.Length > committed, $"printed committed step {committed}, but only {steps.Length} steps read back");
        Assert.Equal(Enumerable.Range(0, steps.Length).Select(i => (long)i), steps);

        // Every step up to the last timings row is complete and byte-exact (the writer's content is deterministic).
        var frames = reader.Frames().ToDictionary(f => f.Step);
        var latents = reader.Latents().ToDictionary(l => l.Step);
        var plans = reader.Plans().ToDictionary(p => p.Step);
        var commands = reader.Commands().ToDictionary(c => c.Step);
        var states = reader.ArmStates().ToDictionary(s => s.Step);
        var surprise = reader.Surprises().ToDictionary(s => s.Step);
        var frame = new RobotCtl.Core.Vision.Frame(32, 24);
        var latent = new float[192];
        var chunk = new float[35];
        var costs = new float[3];
        foreach (var step in steps)
        {
            StepContent.Fill(frame, latent, chunk, costs, step);
            Assert.Equal(frame.Pixels, frames[step].Data);
            Assert.Equal(step, frames[step].Sequence);
            Assert.Equal(latent, latents[step].Values);
            Assert.Equal(chunk, plans[step].Chunk);
            Assert.Equal(costs, plans[step].CostPerIteration);
            Assert.Equal(step * 0.001f, commands[step].Sent.Dx);
            Assert.Equal(step, states[step].State.X);
            Assert.Equal(step * 0.5f, surprise[step].Value);
        }
    }
}
