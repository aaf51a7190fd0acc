using System.Diagnostics;
using System.Text.Json;
using PureHDF;
using PureHDF.Filters;
using PureHDF.Selections;
using PureHDF.VOL.Native;
using RobotCtl.Core.Vision;

namespace RobotCtl.Episodes;

/// <summary>
/// Exports episodes to the stable-worldmodel HDF5 layout with PureHDF (no HDF5 library, no Python), so recorded runs can
/// train a LeWM. One row per recorded camera frame, every episode concatenated in the order given:
/// <list type="bullet">
/// <item><c>pixels</c> uint8 N x H x W x 3, RGB; one chunk per frame, shuffle + deflate (fastest level). With a size, each frame is
/// downsampled by exact area averaging (<see cref="AreaResampler"/>: the runtime preprocessor's weights and order of sums)
/// and rounded to the nearest integer.</item>
/// <item><c>action</c> float32 N x 7: the sum of the commands sent (after the governor) during the frame's step
/// (dx dy dz droll dpitch dyaw gripper; NaN counts as 0); zeros for a step without commands.</item>
/// <item><c>proprio</c> float32 N x 7: the latest arm state recorded at or before the frame (the first state for frames
/// before any; NaN when the episode has none).</item>
/// <item><c>sim_state</c> float32 N x 6: the sim's true state at the frame's step (its first row there); NaN where none.</item>
/// <item><c>step</c> int64 N, <c>time_s</c> float64 N (seconds since the episode's start), <c>ep_len</c> and <c>ep_offset</c> int64 E.</item>
/// </list>
/// Attributes: episode_ids and sources (JSON lists), robotctl_schema_version, source_size ([width, height]), resize
/// ("area" or "none"), sim_state_columns (JSON list). The file is written to OUT.partial and renamed at the end; on any
/// failure (or cancellation) nothing is left at either path.
/// </summary>
public static class Hdf5Exporter
{
    public static readonly string[] SimStateColumns = ["ee_x", "ee_y", "ee_z", "block_x", "block_y", "block_yaw"];

    /// <summary>How often <c>progress</c> is called while frames are written.</summary>
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(2);

    private const int PixelBlockBytes = 8 << 20; // rows of pixels buffered per write

    // Deflate at its fastest level: on 1,020 rendered 224x224 frames PureHDF's chunk writing alone took 3.8 s of CPU,
    // fastest deflate about the same (47 MB instead of 154), the default level twice that (22 MB).
    private static readonly H5Filter FastestDeflate = new(DeflateFilter.Id, new() { [DeflateFilter.COMPRESSION_LEVEL] = 1 });

    /// <summary>
    /// Exports the episode files <paramref name="episodePaths"/>, in that order, to
    /// <paramref name="outputPath"/>. <paramref name="decoder"/> decodes JPEG/PNG frames (raw-bgr needs none);
    /// <paramref name="size"/> downsamples every frame; <paramref name="progress"/> gets (rows written, total rows) every
    /// <see cref="ProgressInterval"/>. Throws <see cref="EpisodeFormatException"/> for a file that is not a readable episode,
    /// <see cref="ArgumentException"/> for a bad output path or size, and <see cref="Hdf5ExportException"/> for bad frames
    /// found on the way or an output that cannot be written, or pixels that would not fit in <paramref name="maxPixelBytes"/>
    /// (default: half the memory available to the process; PureHDF holds them until the file is closed).
    /// </summary>
    public static Hdf5ExportResult Export(IReadOnlyList<string> episodePaths, string outputPath, IFrameDecoder? decoder,
        (int Width, int Height)? size = null, Action<long, long>? progress = null, CancellationToken cancellationToken = default,
        long? maxPixelBytes = null)
    {
        // Refused before any work: these used to fail only when renaming the finished file.
        var fullOutput = Path.GetFullPath(outputPath);
        if (Directory.Exists(fullOutput)) throw new ArgumentException($"--out {outputPath}: is a directory, expected a file path");
        if (Path.GetDirectoryName(fullOutput) is { } parent && !Directory.Exists(parent))
            throw new ArgumentException($"--out {outputPath}: directory {parent} does not exist");
        if (size is { } s && (s.Width <= 0 || s.Height <= 0)) throw new ArgumentException($"--size {s.Width}x{s.Height}: expected positive width and height");

        var readers = new List<EpisodeReader>();
        try
        {
            foreach (var path in episodePaths) readers.Add(EpisodeReader.Open(path));
            var counts = readers.Select(r => checked((int)r.Count("frames"))).ToArray();
            var total = counts.Sum();
            if (total == 0) throw new Hdf5ExportException($"no camera frames in {string.Join(", ", readers.Select(r => r.Path))}: nothing to export");
            var firstReader = readers[Array.FindIndex(counts, c => c > 0)];
            var first = firstReader.Frames().First();
            var (width, height) = (first.Width, first.Height);
            var (outWidth, outHeight) = size ?? (width, height);
            if (outWidth > width || outHeight > height)
                throw new ArgumentException(
                    $"--size {outWidth}x{outHeight}: larger than the recorded frames ({width}x{height} in {firstReader.Path}); only downsampling is supported");

            // PureHDF 2.2.0 keeps every chunk in memory until the file is closed (its writing cache is unbounded, and a
            // cache that writes chunks out early makes it store them under the wrong index), so the pixels must fit.
            var pixelBytes = (long)total * outWidth * outHeight * 3;
            var limit = maxPixelBytes ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2;
            if (pixelBytes > limit)
                throw new Hdf5ExportException(
                    $"{total} frames of {outWidth}x{outHeight} are {pixelBytes / 1e6:0.#} MB of pixels, which the HDF5 writer holds in memory until " +
                    $"the file is closed: more than the {limit / 1e6:0.#} MB allowed (half the memory available); export fewer episodes per file or downsample with --size");

            var partial = fullOutput + ".partial";
            try
            {
                Write(partial, readers, counts, total, width, height, outWidth, outHeight, decoder, progress, cancellationToken);
                File.Move(partial, fullOutput, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                TryDelete(partial);
                throw new Hdf5ExportException($"cannot write {outputPath}: {e.Message}", e);
            }
            catch
            {
                TryDelete(partial);
                throw;
            }
            return new Hdf5ExportResult(fullOutput, total, readers.Count, outWidth, outHeight, width, height);
        }
        finally
        {
            foreach (var r in readers) r.Dispose();
        }
    }

    private static void Write(string path, List<EpisodeReader> readers, int[] counts, int total, int width, int height, int outWidth, int outHeight,
        IFrameDecoder? decoder, Action<long, long>? progress, CancellationToken cancellationToken)
    {
        var rowBytes = outHeight * outWidth * 3;
        var pixels = new H5Dataset<byte[]>(fileDims: [(ulong)total, (ulong)outHeight, (ulong)outWidth, 3], chunks: [1, (uint)outHeight, (uint)outWidth, 3],
            datasetCreation: new H5DatasetCreation(Filters: [ShuffleFilter.Id, FastestDeflate]));
        var action = new float[total * 7];
        var proprio = new float[total * 7];
        var simState = new float[total * SimStateColumns.Length];
        Array.Fill(proprio, float.NaN);
        Array.Fill(simState, float.NaN);
        var steps = new long[total];
        var times = new double[total];
        var episodeLength = counts.Select(c => (long)c).ToArray();
        var episodeOffset = new long[counts.Length];
        for (var e = 1; e < counts.Length; e++) episodeOffset[e] = episodeOffset[e - 1] + counts[e - 1];

        var file = new H5File { ["pixels"] = pixels };
        // The other datasets are filled in memory while the pixels stream, and written once at the end.
        var writeAtEnd = new List<Action<H5NativeWriter>>();
        void AtEnd<T>(string name, T data, params ulong[] dims)
        {
            var dataset = new H5Dataset<T>(fileDims: dims);
            file[name] = dataset;
            writeAtEnd.Add(w => w.Write(dataset, data));
        }
        AtEnd("action", action, (ulong)total, 7);
        AtEnd("proprio", proprio, (ulong)total, 7);
        AtEnd("sim_state", simState, (ulong)total, (ulong)SimStateColumns.Length);
        AtEnd("step", steps, (ulong)total);
        AtEnd("time_s", times, (ulong)total);
        AtEnd("ep_len", episodeLength, (ulong)counts.Length);
        AtEnd("ep_offset", episodeOffset, (ulong)counts.Length);
        file.Attributes["episode_ids"] = JsonSerializer.Serialize(readers.Select(r => r.Info.Id).ToArray(), EpisodeJsonContext.Default.StringArray);
        file.Attributes["sources"] = JsonSerializer.Serialize(readers.Select(r => Path.GetFullPath(r.Path)).ToArray(), EpisodeJsonContext.Default.StringArray);
        file.Attributes["robotctl_schema_version"] = (long)EpisodeSchema.Version;
        file.Attributes["source_size"] = new long[] { width, height };
        file.Attributes["resize"] = outWidth != width || outHeight != height ? "area" : "none";
        file.Attributes["sim_state_columns"] = JsonSerializer.Serialize(SimStateColumns, EpisodeJsonContext.Default.StringArray);

        var blockRows = Math.Clamp(PixelBlockBytes / rowBytes, 1, 256);
        var block = new byte[blockRows * rowBytes];
        int blockStart = 0, blockCount = 0;
        var frame = new Frame(width, height);
        var resized = new Frame(outWidth, outHeight);
        var resampler = new AreaResampler();
        var clock = Stopwatch.StartNew();
        var lastProgress = TimeSpan.Zero;

        using (var writer = file.BeginWrite(path))
        {
            void Flush()
            {
                if (blockCount == 0) return;
                writer.Write(pixels, blockCount == blockRows ? block : block[..(blockCount * rowBytes)],
                    fileSelection: new HyperslabSelection(4, [(ulong)blockStart, 0, 0, 0], [(ulong)blockCount, (ulong)outHeight, (ulong)outWidth, 3]));
                blockStart += blockCount;
                blockCount = 0;
            }

            var row = 0;
            foreach (var reader in readers)
            {
                var info = reader.Info;
                var sent = new Dictionary<long, double[]>();
                foreach (var c in reader.Commands())
                {
                    var sum = sent.TryGetValue(c.Step, out var a) ? a : sent[c.Step] = new double[7];
                    for (var k = 0; k < 7; k++) sum[k] += float.IsNaN(c.Sent[k]) ? 0 : c.Sent[k];
                }
                var states = reader.ArmStates().OrderBy(s => s.Ticks).ToList();
                var sim = new Dictionary<long, SimStateSample>();
                foreach (var s in reader.SimStates()) sim.TryAdd(s.Step, s.State); // the first at the step: what its frame shows

                var nextState = 0;
                foreach (var f in reader.Frames())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (f.Width != width || f.Height != height)
                        throw new Hdf5ExportException($"{Where(reader, f)} is {f.Width}x{f.Height}, the export is {width}x{height}: one size per file");
                    Decode(reader, f, frame, decoder);
                    var rgb = block.AsSpan(blockCount * rowBytes, rowBytes);
                    if (outWidth == width && outHeight == height) frame.Pixels.AsSpan(0, rowBytes).CopyTo(rgb);
                    else
                    {
                        resampler.Resize(frame, resized);
                        resized.Pixels.AsSpan(0, rowBytes).CopyTo(rgb);
                    }
                    for (var p = 0; p < rgb.Length; p += 3) (rgb[p], rgb[p + 2]) = (rgb[p + 2], rgb[p]); // BGR -> RGB
                    if (++blockCount == blockRows) Flush();

                    if (sent.TryGetValue(f.Step, out var a))
                        for (var k = 0; k < 7; k++) action[row * 7 + k] = (float)a[k];
                    while (nextState < states.Count && states[nextState].Ticks <= f.Ticks) nextState++;
                    if (states.Count > 0)
                    {
                        var st = states[Math.Max(nextState - 1, 0)].State;
                        ReadOnlySpan<double> values = [st.X, st.Y, st.Z, st.Roll, st.Pitch, st.Yaw, st.Gripper];
                        for (var k = 0; k < 7; k++) proprio[row * 7 + k] = (float)values[k];
                    }
                    if (sim.TryGetValue(f.Step, out var t))
                    {
                        ReadOnlySpan<double> values = [t.EeX, t.EeY, t.EeZ, t.BlockX, t.BlockY, t.BlockYaw];
                        for (var k = 0; k < values.Length; k++) simState[row * SimStateColumns.Length + k] = (float)values[k];
                    }
                    steps[row] = f.Step;
                    times[row] = (f.Ticks - info.StartTicks) / (double)info.TickFrequency;
                    row++;
                    if (progress is not null && clock.Elapsed - lastProgress >= ProgressInterval)
                    {
                        lastProgress = clock.Elapsed;
                        progress(row, total);
                    }
                }
            }
            Flush();
            foreach (var write in writeAtEnd) write(writer);
        }
        progress?.Invoke(total, total);
    }

    /// <summary>Names a frame in errors (built only when one is thrown).</summary>
    private static string Where(EpisodeReader reader, FrameRow f) => $"{reader.Path}: frame of step {f.Step}";

    private static void Decode(EpisodeReader reader, FrameRow f, Frame destination, IFrameDecoder? decoder)
    {
        if (f.Format == RawBgrFrameEncoder.FormatName)
        {
            var expected = f.Width * f.Height * 3;
            if (f.Data.Length != expected) throw new Hdf5ExportException($"{Where(reader, f)}: raw-bgr has {f.Data.Length} bytes, expected {expected}");
            destination.EnsureSize(f.Width, f.Height);
            f.Data.CopyTo(destination.Pixels, 0);
            return;
        }
        if (f.Format is not ("jpeg" or "png"))
            throw new Hdf5ExportException($"{Where(reader, f)}: unknown format '{f.Format}' (expected jpeg, png or raw-bgr)");
        if (decoder is null) throw new Hdf5ExportException($"{Where(reader, f)}: {f.Format} frames need an image decoder (robotctl's export uses OpenCV's)");
        try
        {
            decoder.Decode(f.Format, f.Data, destination);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new Hdf5ExportException($"{Where(reader, f)}: cannot decode its {f.Format} data: {e.Message}", e);
        }
        if (destination.Width != f.Width || destination.Height != f.Height)
            throw new Hdf5ExportException($"{Where(reader, f)}: its {f.Format} image is {destination.Width}x{destination.Height}, the row says {f.Width}x{f.Height}");
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
