namespace RobotCtl.Episodes;

/// <summary>What `episodes show` prints: how long, how many steps, how it ended, how the loop kept time, what went wrong.</summary>
public sealed record EpisodeSummary
{
    public required EpisodeInfo Info { get; init; }
    public required TimeSpan Duration { get; init; }

    /// <summary>True when the recorder was completed; false for an episode being recorded or cut short (killed process).</summary>
    public required bool Finished { get; init; }

    /// <summary>Finished, still recording (its process is alive) or crashed (no end marker and nobody writing).</summary>
    public required EpisodeState State { get; init; }

    /// <summary>One line on <see cref="State"/> for people: "finished", "still recording (...)", "crashed (...)".</summary>
    public string Status => State switch
    {
        EpisodeState.Finished => "finished",
        EpisodeState.Recording => "still recording (the recording process is alive and holds the episode's lock)",
        _ => "crashed (ended without its end marker and no process is writing it: killed, crashed, or the writer failed; " +
             "every committed row is kept)",
    };

    /// <summary>Null for a cleanly closed file, else what its dead recorder left behind (<see cref="EpisodeReader.NotClosedCleanly"/>).</summary>
    public string? NotClosedCleanly { get; init; }

    public required long Steps { get; init; }
    public required long Frames { get; init; }
    public required long Plans { get; init; }
    public required long Commands { get; init; }
    public required long ClampedCommands { get; init; }
    public required long Faults { get; init; }
    /// <summary>E-stop latches (a release is a note).</summary>
    public required long EStops { get; init; }
    /// <summary>Times the arm link was lost, and regained, during the run.</summary>
    public required long Disconnects { get; init; }
    public required long Reconnects { get; init; }
    public required long Overruns { get; init; }
    public required long Gaps { get; init; }
    public required long DroppedRecords { get; init; }
    public required double? MaxSurprise { get; init; }
    public required IReadOnlyList<SectionStats> Timings { get; init; }

    public static EpisodeSummary Of(EpisodeReader reader)
    {
        var info = reader.Info;
        var endTicks = info.EndTicks ?? reader.LastTicks() ?? info.StartTicks;
        var sections = new List<double>[StepTimings.SectionNames.Length];
        for (var i = 0; i < sections.Length; i++) sections[i] = [];
        long steps = 0;
        foreach (var s in reader.Steps())
        {
            steps++;
            for (var i = 0; i < sections.Length; i++)
                if (double.IsFinite(s.Timings[i])) sections[i].Add(s.Timings[i]);
        }
        long commands = 0, clamped = 0;
        foreach (var c in reader.Commands()) { commands++; if (c.WasClamped) clamped++; }
        long faults = 0, estops = 0, disconnects = 0, reconnects = 0, overruns = 0, gaps = 0, dropped = 0;
        foreach (var e in reader.Events())
        {
            switch (e.Kind)
            {
                case EpisodeEventKind.Fault: faults++; break;
                case EpisodeEventKind.EStop: estops++; break;
                case EpisodeEventKind.Disconnect: disconnects++; break;
                case EpisodeEventKind.Reconnect: reconnects++; break;
                case EpisodeEventKind.Overrun: overruns++; break;
                case EpisodeEventKind.Gap: gaps++; dropped += e.Count; break;
            }
        }
        double? maxSurprise = null;
        foreach (var s in reader.Surprises()) maxSurprise = Math.Max(maxSurprise ?? double.MinValue, s.Value);
        return new EpisodeSummary
        {
            Info = info,
            Duration = TimeSpan.FromMilliseconds(Math.Max(0, info.TicksToMs(endTicks - info.StartTicks))),
            Finished = info.EndTicks is not null,
            State = reader.State,
            NotClosedCleanly = reader.NotClosedCleanly,
            Steps = steps,
            Frames = reader.Count("frames"),
            Plans = reader.Count("plans"),
            Commands = commands,
            ClampedCommands = clamped,
            Faults = faults,
            EStops = estops,
            Disconnects = disconnects,
            Reconnects = reconnects,
            Overruns = overruns,
            Gaps = gaps,
            DroppedRecords = Math.Max(dropped, info.DroppedRecords ?? 0),
            MaxSurprise = maxSurprise,
            Timings = sections.Select((v, i) => Stats(StepTimings.SectionNames[i], v)).Where(s => s is not null).Select(s => s!).ToArray(),
        };
    }

    private static SectionStats? Stats(string name, List<double> values)
    {
        if (values.Count == 0) return null;
        values.Sort();
        return new SectionStats(name, Percentile(values, 0.50), Percentile(values, 0.90), Percentile(values, 0.99), values[^1]);
    }

    /// <summary>Nearest-rank percentile (the smallest value with at least q of the values at or below it).</summary>
    internal static double Percentile(List<double> sorted, double q)
    {
        var rank = (int)Math.Ceiling(q * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }
}
