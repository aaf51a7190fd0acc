using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using RobotCtl.Episodes;
using RobotCtl.Episodes.Mcap;
using RobotCtl.Runtime.Composition;

namespace RobotCtl.Host.Commands;

/// <summary>
/// `robotctl episodes list|show|export|repair`: the recorded episodes (one SQLite file each) in the recording directory
/// (--dir, else Recording:Directory, else ./episodes). An episode is named by its file path or its id (file name stem).
/// Exit 0 ok, 1 the export failed or repair found the file damaged, 2 bad input (one line on stderr).
/// </summary>
internal static class EpisodesCommands
{
    public static Command Create()
    {
        var command = new Command("episodes", "List, summarise and export recorded episodes (one SQLite file per run).");
        command.Subcommands.Add(ListCommand());
        command.Subcommands.Add(ShowCommand());
        command.Subcommands.Add(ExportCommand());
        command.Subcommands.Add(RepairCommand());
        return command;
    }

    private static Option<string?> DirOption() =>
        new("--dir") { Description = $"Episode directory [Recording:Directory, default ./{EpisodeCatalog.DefaultDirectory}]" };

    private static Argument<string> EpisodeArgument() =>
        new("episode") { Description = "Episode file path, or its id (file name without .sqlite) in the episode directory" };

    private static string Directory(string? dir) =>
        RobotCtlHome.Resolve(dir ?? AppConfiguration.Build()[Runtime.RecordingOptions.DirectoryKey] ?? EpisodeCatalog.DefaultDirectory);

    private static Command ListCommand()
    {
        var dir = DirOption();
        var command = new Command("list", "One line per episode, newest first: id, start (UTC), duration, steps, success, model.") { dir };
        command.SetAction(r =>
        {
            try
            {
                var directory = Directory(r.GetValue(dir));
                // Name the option (or the setting) that pointed at a directory that is not there.
                var source = r.GetValue(dir) is { } given ? $"--dir {given}" : "Recording:Directory";
                if (File.Exists(directory)) throw new ArgumentException($"{source}: {directory} is a file, expected the episode directory");
                if (!System.IO.Directory.Exists(directory)) throw new ArgumentException($"{source}: directory {directory} does not exist");
                var list = EpisodeCatalog.List(directory);
                if (list.Count == 0)
                {
                    Console.WriteLine($"no episodes in {directory}");
                    return 0;
                }
                var idWidth = Math.Max(2, list.Max(l => l.Id.Length));
                Console.WriteLine($"{"ID".PadRight(idWidth)}  {"START (UTC)",-19}  {"DURATION",9}  {"STEPS",6}  {"SUCCESS",-9}  MODEL");
                foreach (var l in list)
                {
                    if (l.Error is not null)
                    {
                        var what = l.EmptyInterrupted ? "empty, interrupted (killed while being created, nothing recorded; episodes repair deletes it)"
                            : l.State == EpisodeState.Recording ? "being created" : $"unreadable: {l.Error}";
                        Console.WriteLine($"{l.Id.PadRight(idWidth)}  {what}");
                        continue;
                    }
                    Console.WriteLine($"{l.Id.PadRight(idWidth)}  {l.StartTimeUtc!.Value.UtcDateTime:yyyy-MM-dd HH:mm:ss}  {Duration(l.Duration!.Value),9}  " +
                                      $"{l.Steps,6}  {Status(l),-9}  {l.Model ?? "-"}");
                }
                var unclean = list.Where(l => l.NotClosedCleanly is not null).Select(l => l.Id).ToArray();
                if (unclean.Length > 0)
                    Console.WriteLine($"not closed cleanly (read as they are, nothing changed; `robotctl episodes repair <id>` recovers each): {string.Join(", ", unclean)}");
                return 0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
            {
                return CliErrors.Fail("episodes list", e);
            }
        });
        return command;
    }

    private static Command ShowCommand()
    {
        var episode = EpisodeArgument();
        var dir = DirOption();
        var json = new Option<bool>("--json") { Description = "Print the summary as one JSON object" };
        var command = new Command("show",
            "Summarise an episode: metadata, duration, steps, outcome, timing percentiles (p50/p90/p99/max) per section, " +
            "clamped commands, faults, e-stops, link losses, overruns, gaps and dropped records.") { episode, dir, json };
        command.SetAction(r =>
        {
            try
            {
                using var reader = EpisodeReader.Open(EpisodeCatalog.Resolve(r.GetValue(episode)!, Directory(r.GetValue(dir))));
                var summary = EpisodeSummary.Of(reader);
                if (r.GetValue(json)) WriteJson(summary);
                else WriteText(summary);
                return 0;
            }
            catch (Exception e) when (e is EpisodeFormatException or IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                return CliErrors.Fail("episodes show", e);
            }
        });
        return command;
    }

    private static Command ExportCommand()
    {
        var episodes = new Argument<string[]>("episodes")
        {
            Description = "Episode file paths or ids, or directories (their *.sqlite files, sorted by name); hdf5 concatenates them all, mcap takes one",
            Arity = ArgumentArity.OneOrMore,
        };
        var dir = DirOption();
        var format = new Option<string>("--format") { Description = "mcap (Foxglove), hdf5 (stable-worldmodel layout for LeWM training), mp4 (the frames as video, goal inset) or png (summary plot)", Required = true };
        format.AcceptOnlyFromAmong("mcap", "hdf5", "mp4", "png");
        var output = new Option<string>("--out") { Description = "Output file", Required = true };
        var size = new Option<string?>("--size")
        {
            Description = "hdf5: downsample every frame to WIDTHxHEIGHT (e.g. 64x64) by exact area averaging, the runtime preprocessor's arithmetic, rounded to uint8",
        };
        var command = new Command("export",
            "Export episodes. mcap (one episode): camera frames as foxglove.CompressedImage/RawImage, commands, arm states, plans, timings, " +
            "surprise and events as JSON messages, for Foxglove. hdf5 (any number of episodes, concatenated in the order given): pixels " +
            "(N x H x W x 3 uint8), action and proprio (N x 7 float32), sim_state (N x 6 float32: effector x y z, block x y yaw; NaN where not " +
            "recorded), step, time_s, ep_len, ep_offset, written by robotctl itself (PureHDF: no HDF5 library or Python needed); " +
            "progress on stderr. mp4 (one episode): the frames as MPEG-4 video at the recording's pace, the current goal inset top-right. " +
            "png (one episode): a summary plot of the latent distance to the goal, plan ms and surprise over the steps.")
        {
            episodes, dir, format, output, size,
        };
        command.SetAction(r =>
        {
            var outPath = Path.GetFullPath(r.GetValue(output)!);
            try
            {
                // Refuse an output that cannot be written before any work (an existing directory used to fail at the very end).
                OutputPaths.RequireWritableFile("--out", r.GetValue(output)!);
                var paths = ResolveMany(r.GetValue(episodes)!, Directory(r.GetValue(dir)));
                var sizeText = r.GetValue(size);
                if (r.GetValue(format) is "mp4" or "png")
                {
                    // Pictures for reports and issues (RobotCtl.Dashboard's EpisodePictures).
                    if (paths.Count != 1) throw new ArgumentException($"{r.GetValue(format)} exports one episode; found {paths.Count}");
                    if (sizeText is not null) throw new ArgumentException("--size applies to --format hdf5 only");
                    using var reader = EpisodeReader.Open(paths[0]);
                    var picture = r.GetValue(format) == "mp4"
                        ? Dashboard.EpisodePictures.ExportVideo(reader, outPath)
                        : Dashboard.EpisodePictures.SaveSummaryPlot(reader, outPath);
                    Console.WriteLine(picture.Frames > 1 || r.GetValue(format) == "mp4"
                        ? $"wrote {outPath}: {picture.Frames} frames of {picture.Width}x{picture.Height} at {picture.Fps:0.##} fps"
                        : $"wrote {outPath}: {picture.Width}x{picture.Height} summary plot");
                }
                else if (r.GetValue(format) == "mcap")
                {
                    if (paths.Count != 1) throw new ArgumentException($"mcap exports one episode; found {paths.Count} (use --format hdf5 for several)");
                    if (sizeText is not null) throw new ArgumentException("--size applies to --format hdf5 only");
                    using var reader = EpisodeReader.Open(paths[0]);
                    var result = McapExporter.Export(reader, outPath);
                    Console.WriteLine($"wrote {outPath}: {result.Messages} messages ({string.Join(", ", result.MessagesPerTopic.Select(kv => $"{kv.Key} {kv.Value}"))}), {result.Bytes / 1024.0:F0} KiB");
                }
                else
                {
                    var target = sizeText is null ? ((int, int)?)null : ParseSize(sizeText);
                    var interactive = !Console.IsErrorRedirected;
                    var result = Hdf5Exporter.Export(paths, outPath, new VisionFrameDecoder(), target, (rows, total) =>
                    {
                        var line = $"{rows}/{total} rows ({100.0 * rows / total:0}%)";
                        Console.Error.Write(interactive ? $"\rexport {line}   " : $"export {line}\n");
                    });
                    if (interactive) Console.Error.Write("\r\x1b[K");
                    Console.WriteLine($"wrote {outPath}: {result.Rows} rows from {result.Episodes} episode(s) of {result.Height}x{result.Width} pixels" +
                                      (result.Resized ? $" (area-downsampled from {result.SourceHeight}x{result.SourceWidth})" : ""));
                }
                return 0;
            }
            catch (Hdf5ExportException e)
            {
                return CliErrors.Fail("episodes export", e, exitCode: ExitCodes.Failed);
            }
            catch (Exception e) when (e is EpisodeFormatException or IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException
                                      or Vision.VisionException)
            {
                return CliErrors.Fail("episodes export", e);
            }
        });
        return command;
    }

    private static Command RepairCommand()
    {
        var episode = EpisodeArgument();
        var dir = DirOption();
        var command = new Command("repair",
            "Make an episode left behind by a killed recorder one self-contained file: fold its write-ahead log (-wal) into the .sqlite " +
            "file and remove its stale lock, then report rows per table, whether it finished, and SQLite's quick_check (exit 1 if damaged). " +
            "An empty interrupted episode (killed while being created: nothing recorded) is deleted. An episode still being recorded is refused.")
        {
            episode, dir,
        };
        command.SetAction(r =>
        {
            try
            {
                var report = EpisodeRepair.Repair(EpisodeCatalog.Resolve(r.GetValue(episode)!, Directory(r.GetValue(dir))));
                if (report.DeletedEmpty)
                {
                    Console.WriteLine($"deleted {report.Path}: an empty interrupted episode (its recorder was stopped before it wrote the schema and metadata; nothing was recorded)");
                    return 0;
                }
                var done = new List<string>();
                if (report.FoldedWal) done.Add("folded the write-ahead log into the file");
                if (report.RemovedLock) done.Add("removed the stale lock file");
                Console.WriteLine($"{report.Path}: {(report.State == EpisodeState.Finished ? "finished" : "crashed (no end marker)")}; " +
                                  (done.Count == 0 ? "already self-contained, nothing to do" : string.Join(", ", done)));
                Console.WriteLine($"rows      {string.Join("   ", report.Rows.Select(kv => $"{kv.Key} {kv.Value}"))}");
                Console.WriteLine($"integrity {report.Integrity?.ReplaceLineEndings("; ")}");
                return report.Integrity == "ok" ? ExitCodes.Success : ExitCodes.Failed;
            }
            catch (Exception e) when (e is EpisodeFormatException or IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                return CliErrors.Fail("episodes repair", e);
            }
        });
        return command;
    }

    /// <summary>Episode names to files: a directory stands for its *.sqlite files sorted by name (ordinal); others as in <see cref="EpisodeCatalog.Resolve"/>.</summary>
    internal static IReadOnlyList<string> ResolveMany(IEnumerable<string> names, string directory)
    {
        var files = new List<string>();
        foreach (var name in names)
        {
            if (System.IO.Directory.Exists(name))
            {
                var found = System.IO.Directory.EnumerateFiles(name, "*" + EpisodeCatalog.FileExtension).Select(Path.GetFullPath).Order(StringComparer.Ordinal).ToArray();
                if (found.Length == 0) throw new FileNotFoundException($"no episode files (*{EpisodeCatalog.FileExtension}) in directory {Path.GetFullPath(name)}", name);
                files.AddRange(found);
            }
            else
            {
                files.Add(EpisodeCatalog.Resolve(name, directory));
            }
        }
        return files;
    }

    /// <summary>Area averaging only shrinks: refuse a --size larger than the first recorded frame (the export has one frame size).</summary>
    /// <summary>"WxH" with both positive; ArgumentException naming the option otherwise.</summary>
    internal static (int Width, int Height) ParseSize(string text)
    {
        var parts = text.Split('x', 'X');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var w) &&
            int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var h) && w > 0 && h > 0)
            return (w, h);
        throw new ArgumentException($"--size: expected WIDTHxHEIGHT with positive integers (e.g. 64x64), found '{text}'");
    }

    private static void WriteText(EpisodeSummary s)
    {
        var i = s.Info;
        Console.WriteLine($"episode   {i.Id}");
        Console.WriteLine($"file      {i.Path}");
        Console.WriteLine($"started   {i.StartTimeUtc.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC   source {i.Source}   robotctl {i.RobotctlVersion}");
        Console.WriteLine($"model     {i.Model ?? "-"}   calibration {i.Calibration ?? "-"}   seed {i.Seed?.ToString(CultureInfo.InvariantCulture) ?? "-"}");
        if (i.Goals.Count > 0) Console.WriteLine($"goals     {string.Join(", ", i.Goals)}");
        Console.WriteLine($"duration  {Duration(s.Duration)}   steps {s.Steps}   frames {s.Frames}   plans {s.Plans}   commands {s.Commands}");
        Console.WriteLine($"outcome   {(s.Finished ? $"{Success(i.Success)}{(i.Outcome is null ? "" : $" ({i.Outcome})")}" : s.Status)}");
        if (s.NotClosedCleanly is { } leftovers)
            Console.WriteLine($"repair    not closed cleanly: {leftovers}; read as it is, nothing changed; `robotctl episodes repair {i.Id}` recovers it");
        Console.WriteLine($"clamped   {s.ClampedCommands} of {s.Commands} commands   faults {s.Faults}   e-stops {s.EStops}   " +
                          $"link lost {s.Disconnects} / regained {s.Reconnects}   overruns {s.Overruns}   " +
                          $"gaps {s.Gaps} ({s.DroppedRecords} records dropped)   max surprise {(s.MaxSurprise is { } m ? m.ToString("F4", CultureInfo.InvariantCulture) : "-")}");
        if (s.Timings.Count == 0) return;
        Console.WriteLine();
        Console.WriteLine($"{"section (ms)",-12} {"p50",9} {"p90",9} {"p99",9} {"max",9}");
        foreach (var t in s.Timings)
            Console.WriteLine($"{t.Section,-12} {t.P50Ms,9:F2} {t.P90Ms,9:F2} {t.P99Ms,9:F2} {t.MaxMs,9:F2}");
    }

    private static void WriteJson(EpisodeSummary s)
    {
        var i = s.Info;
        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("id", i.Id);
            w.WriteString("path", i.Path);
            w.WriteNumber("schema_version", i.SchemaVersion);
            w.WriteString("source", i.Source);
            w.WriteString("model", i.Model);
            w.WriteString("calibration", i.Calibration);
            w.WriteString("robotctl_version", i.RobotctlVersion);
            w.WriteString("start_time_utc", i.StartTimeUtc);
            if (i.Seed is { } seed) w.WriteNumber("seed", seed); else w.WriteNull("seed");
            w.WriteStartArray("goals");
            foreach (var g in i.Goals) w.WriteStringValue(g);
            w.WriteEndArray();
            w.WriteNumber("duration_s", s.Duration.TotalSeconds);
            w.WriteBoolean("finished", s.Finished);
            w.WriteString("state", s.State switch { EpisodeState.Finished => "finished", EpisodeState.Recording => "recording", _ => "crashed" });
            w.WriteString("not_closed_cleanly", s.NotClosedCleanly);
            if (i.Success is { } ok) w.WriteBoolean("success", ok); else w.WriteNull("success");
            w.WriteString("outcome", i.Outcome);
            w.WriteNumber("steps", s.Steps);
            w.WriteNumber("frames", s.Frames);
            w.WriteNumber("plans", s.Plans);
            w.WriteNumber("commands", s.Commands);
            w.WriteNumber("clamped_commands", s.ClampedCommands);
            w.WriteNumber("faults", s.Faults);
            w.WriteNumber("estops", s.EStops);
            w.WriteNumber("disconnects", s.Disconnects);
            w.WriteNumber("reconnects", s.Reconnects);
            w.WriteNumber("overruns", s.Overruns);
            w.WriteNumber("gaps", s.Gaps);
            w.WriteNumber("dropped_records", s.DroppedRecords);
            if (s.MaxSurprise is { } m) w.WriteNumber("max_surprise", m); else w.WriteNull("max_surprise");
            w.WriteStartObject("timings_ms");
            foreach (var t in s.Timings)
            {
                w.WriteStartObject(t.Section);
                w.WriteNumber("p50", t.P50Ms);
                w.WriteNumber("p90", t.P90Ms);
                w.WriteNumber("p99", t.P99Ms);
                w.WriteNumber("max", t.MaxMs);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        stdout.WriteByte((byte)'\n');
    }

    private static string Duration(TimeSpan d) =>
        d.TotalHours >= 1 ? d.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : d.ToString(@"m\:ss\.f", CultureInfo.InvariantCulture);

    /// <summary>The SUCCESS column: yes/no/- for a finished episode, else recording or crashed.</summary>
    private static string Status(EpisodeListing l) => l.State switch
    {
        EpisodeState.Recording => "recording",
        EpisodeState.Crashed => "crashed",
        _ => Success(l.Success),
    };

    private static string Success(bool? success) => success switch { true => "yes", false => "no", null => "-" };
}
