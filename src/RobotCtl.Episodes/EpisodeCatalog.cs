namespace RobotCtl.Episodes;

/// <summary>The episodes in a recording directory, and how a command-line name (path or id) finds one.</summary>
public static class EpisodeCatalog
{
    /// <summary>Default recording directory, relative to the current directory.</summary>
    public const string DefaultDirectory = "episodes";

    public const string FileExtension = EpisodeSchema.FileExtension;

    /// <summary>
    /// Every *.sqlite file in <paramref name="directory"/>, newest first; unreadable files are listed with their error.
    /// Nothing is changed: a crashed episode is read as it is (<see cref="EpisodeReader.Open(string)"/>).
    /// </summary>
    public static IReadOnlyList<EpisodeListing> List(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"episode directory not found: {directory}");
        var listings = new List<EpisodeListing>();
        foreach (var path in Directory.EnumerateFiles(directory, "*" + FileExtension))
        {
            var id = Path.GetFileNameWithoutExtension(path);
            try
            {
                using var reader = EpisodeReader.Open(path);
                var info = reader.Info;
                var endTicks = info.EndTicks ?? reader.LastTicks() ?? info.StartTicks;
                listings.Add(new EpisodeListing(id, path, info.StartTimeUtc,
                    TimeSpan.FromMilliseconds(Math.Max(0, info.TicksToMs(endTicks - info.StartTicks))),
                    reader.Count("timings"), info.Success, info.Model, null, reader.State, NotClosedCleanly: reader.NotClosedCleanly));
            }
            catch (EmptyEpisodeException e)
            {
                listings.Add(new EpisodeListing(id, path, null, null, null, null, null, e.Message,
                    e.BeingCreated ? EpisodeState.Recording : null, EmptyInterrupted: !e.BeingCreated));
            }
            catch (EpisodeFormatException e)
            {
                listings.Add(new EpisodeListing(id, path, null, null, null, null, null, e.Message));
            }
        }
        return listings.OrderByDescending(l => l.StartTimeUtc ?? DateTimeOffset.MinValue).ThenBy(l => l.Id, StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// The file an episode name refers to: an existing file path, or an id (file name stem) in <paramref name="directory"/>.
    /// Throws <see cref="FileNotFoundException"/> saying where it looked.
    /// </summary>
    public static string Resolve(string episode, string directory)
    {
        if (File.Exists(episode)) return Path.GetFullPath(episode);
        var candidate = Path.Combine(directory, episode + FileExtension);
        if (File.Exists(candidate)) return Path.GetFullPath(candidate);
        throw new FileNotFoundException(
            $"no episode '{episode}': not a file, and no {episode}{FileExtension} in {Path.GetFullPath(directory)}", episode);
    }
}
