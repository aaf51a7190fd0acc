using System.Buffers;
using System.Globalization;
using System.Text.Json;
using RobotCtl.Core.Arm;

namespace RobotCtl.Episodes.Mcap;

/// <summary>
/// Exports an episode to MCAP for Foxglove and other MCAP tools. Frames become foxglove.CompressedImage (jpeg/png)
/// or foxglove.RawImage (raw-bgr) on /camera/image; commands, arm states, plans, timings, surprise and events become
/// JSON messages (schema encoding jsonschema, message encoding json). Log times are Unix nanoseconds: the episode's
/// wall-clock start plus the monotonic offset of each row. Latents are not exported (too large for JSON).
/// </summary>
public static class McapExporter
{
    public const string FramesTopic = "/camera/image", GoalsTopic = "/goal/image", CommandsTopic = "/arm/command",
        StatesTopic = "/arm/state", PlansTopic = "/planner/plan", TimingsTopic = "/loop/timings",
        SurpriseTopic = "/world_model/surprise", EventsTopic = "/episode/events";

    public static McapExportResult Export(EpisodeReader reader, string outputPath)
    {
        var temp = outputPath + ".partial";
        McapExportResult result;
        try
        {
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
                result = Export(reader, file);
            File.Move(temp, outputPath, overwrite: true); // a reader never sees half a file
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        return result with { Bytes = new FileInfo(outputPath).Length };
    }

    public static McapExportResult Export(EpisodeReader reader, Stream output) => Export(reader, output, 1 << 20);

    internal static McapExportResult Export(EpisodeReader reader, Stream output, int chunkSize)
    {
        var info = reader.Info;
        var startNs = (info.StartTimeUtc - DateTimeOffset.UnixEpoch).Ticks * 100L;
        ulong ToNs(long ticks) => (ulong)Math.Max(0, startNs + (long)((Int128)(ticks - info.StartTicks) * 1_000_000_000 / info.TickFrequency));

        var counting = new CountingStream(output);
        using var mcap = new McapWriter(counting, $"robotctl {info.RobotctlVersion}", chunkSize);
        var channels = new Dictionary<string, ushort>();
        var schemas = new Dictionary<string, ushort>();
        ushort Channel(string topic, string schemaName, string schemaJson)
        {
            if (channels.TryGetValue(topic, out var id)) return id;
            if (!schemas.TryGetValue(schemaName, out var schemaId)) schemas[schemaName] = schemaId = mcap.AddSchema(schemaName, "jsonschema", schemaJson);
            return channels[topic] = mcap.AddChannel(schemaId, topic, "json");
        }

        mcap.AddMetadata("robotctl.episode", Metadata(info));

        var sources = new IEnumerable<Message>[]
        {
            reader.Frames().Select(f => Image(FramesTopic, "camera", f.Ticks, f.CaptureTicks, f.Width, f.Height, f.Format, f.Data, f.Sequence)),
            reader.GoalImages().Select(g => Image(GoalsTopic, "goal", g.Ticks, g.CaptureTicks, g.Width, g.Height, g.Format, g.Data, g.GoalIndex)),
            reader.Commands().Select(c => new Message(c.Ticks, CommandsTopic, Schemas.Command, w =>
            {
                w.WriteNumber("step", c.Step);
                WriteCommand(w, "sent", c.Sent);
                WriteCommand(w, "requested", c.Requested);
                w.WriteNumber("clamped_axes", c.ClampedAxes);
                w.WriteBoolean("clamped", c.WasClamped);
                w.WriteString("reason", c.Reason ?? "");
            })),
            reader.ArmStates().Select(s => new Message(s.Ticks, StatesTopic, Schemas.State, w =>
            {
                w.WriteNumber("step", s.Step);
                WriteFinite(w, "x", s.State.X); WriteFinite(w, "y", s.State.Y); WriteFinite(w, "z", s.State.Z);
                WriteFinite(w, "roll", s.State.Roll); WriteFinite(w, "pitch", s.State.Pitch); WriteFinite(w, "yaw", s.State.Yaw);
                WriteFinite(w, "gripper", s.State.Gripper);
                w.WriteNumber("sequence", s.State.Sequence);
            })),
            reader.Plans().Select(p => new Message(p.Ticks, PlansTopic, Schemas.Plan, w =>
            {
                w.WriteNumber("step", p.Step);
                w.WriteString("planner", p.Planner);
                w.WriteNumber("iterations", p.Iterations);
                WriteFinite(w, "final_cost", p.FinalCost);
                WriteFinite(w, "deadline_ms", p.DeadlineMs);
                WriteFinite(w, "elapsed_ms", p.ElapsedMs);
                w.WriteNumber("seed", p.Seed);
                WriteArray(w, "costs", p.CostPerIteration);
                w.WriteStartArray("chunk_shape");
                foreach (var d in p.ChunkShape) w.WriteNumberValue(d);
                w.WriteEndArray();
                WriteArray(w, "chunk", p.Chunk);
            })),
            reader.Steps().Select(s => new Message(s.Ticks, TimingsTopic, Schemas.Timings, w =>
            {
                w.WriteNumber("step", s.Step);
                for (var i = 0; i < StepTimings.SectionNames.Length; i++) WriteFinite(w, StepTimings.SectionNames[i] + "_ms", s.Timings[i]);
            })),
            reader.Surprises().Select(s => new Message(s.Ticks, SurpriseTopic, Schemas.Surprise, w =>
            {
                w.WriteNumber("step", s.Step);
                WriteFinite(w, "value", s.Value);
            })),
            reader.Events().Select(e => new Message(e.Ticks, EventsTopic, Schemas.Event, w =>
            {
                w.WriteNumber("step", e.Step);
                w.WriteString("kind", EpisodeSchema.KindName(e.Kind));
                w.WriteString("message", e.Message);
                w.WriteNumber("count", e.Count);
            })),
        };

        // k-way merge by time: each table is already in recording order; the file stays in log-time order.
        var enumerators = sources.Select(s => s.GetEnumerator()).ToArray();
        var queue = new PriorityQueue<int, (long Ticks, int Source)>();
        for (var i = 0; i < enumerators.Length; i++)
            if (enumerators[i].MoveNext()) queue.Enqueue(i, (enumerators[i].Current.Ticks, i));

        var json = new ArrayBufferWriter<byte>(4096);
        using var writer = new Utf8JsonWriter(json);
        var sequences = new Dictionary<ushort, uint>();
        var perTopic = new SortedDictionary<string, long>(StringComparer.Ordinal);
        long total = 0;
        try
        {
            while (queue.TryDequeue(out var source, out _))
            {
                var m = enumerators[source].Current;
                var channel = Channel(m.Topic, m.Schema.Name, m.Schema.Json);
                json.ResetWrittenCount();
                writer.Reset(json);
                writer.WriteStartObject();
                m.Write(writer);
                writer.WriteEndObject();
                writer.Flush();
                var seq = sequences.GetValueOrDefault(channel);
                sequences[channel] = seq + 1;
                mcap.AddMessage(channel, seq, ToNs(m.Ticks), json.WrittenSpan);
                perTopic[m.Topic] = perTopic.GetValueOrDefault(m.Topic) + 1;
                total++;
                if (enumerators[source].MoveNext()) queue.Enqueue(source, (enumerators[source].Current.Ticks, source));
            }
        }
        finally
        {
            foreach (var e in enumerators) e.Dispose();
        }
        mcap.Finish();
        return new McapExportResult(total, perTopic, counting.Written);

        Message Image(string topic, string frameId, long ticks, long captureTicks, int width, int height, string format, byte[] data, long sequence)
        {
            var raw = format == RawBgrFrameEncoder.FormatName;
            return new Message(ticks, topic, raw ? Schemas.RawImage : Schemas.CompressedImage, w =>
            {
                var ns = ToNs(captureTicks);
                w.WriteStartObject("timestamp");
                w.WriteNumber("sec", ns / 1_000_000_000);
                w.WriteNumber("nsec", ns % 1_000_000_000);
                w.WriteEndObject();
                w.WriteString("frame_id", frameId);
                if (raw)
                {
                    w.WriteNumber("width", width);
                    w.WriteNumber("height", height);
                    w.WriteString("encoding", "bgr8");
                    w.WriteNumber("step", width * 3);
                }
                else
                {
                    w.WriteString("format", format);
                }
                w.WriteBase64String("data", data);
            });
        }
    }

    private static IEnumerable<KeyValuePair<string, string>> Metadata(EpisodeInfo info)
    {
        var values = new Dictionary<string, string?>
        {
            ["episode_id"] = info.Id, ["source"] = info.Source, ["model"] = info.Model, ["calibration"] = info.Calibration,
            ["configuration"] = info.ConfigurationJson, ["robotctl_version"] = info.RobotctlVersion,
            ["start_time_utc"] = info.StartTimeUtc.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            ["seed"] = info.Seed?.ToString(CultureInfo.InvariantCulture), ["goals"] = string.Join("\n", info.Goals),
            ["success"] = info.Success?.ToString(), ["outcome"] = info.Outcome,
        };
        return values.Where(kv => kv.Value is not null).Select(kv => new KeyValuePair<string, string>(kv.Key, kv.Value!));
    }

    private static void WriteCommand(Utf8JsonWriter w, string name, in EeCommand c)
    {
        w.WriteStartObject(name);
        WriteFinite(w, "dx", c.Dx); WriteFinite(w, "dy", c.Dy); WriteFinite(w, "dz", c.Dz);
        WriteFinite(w, "droll", c.DRoll); WriteFinite(w, "dpitch", c.DPitch); WriteFinite(w, "dyaw", c.DYaw);
        WriteFinite(w, "gripper", c.Gripper);
        w.WriteEndObject();
    }

    private static void WriteArray(Utf8JsonWriter w, string name, float[] values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) { if (float.IsFinite(v)) w.WriteNumberValue(v); else w.WriteNullValue(); }
        w.WriteEndArray();
    }

    /// <summary>JSON has no NaN: a missing or non-finite value is written as null.</summary>
    private static void WriteFinite(Utf8JsonWriter w, string name, double v)
    {
        if (double.IsFinite(v)) w.WriteNumber(name, v);
        else w.WriteNull(name);
    }

    private sealed record Message(long Ticks, string Topic, Schema Schema, Action<Utf8JsonWriter> Write);

    private sealed record Schema(string Name, string Json);

    private static class Schemas
    {
        private const string Time = """{"type":"object","properties":{"sec":{"type":"integer","minimum":0},"nsec":{"type":"integer","minimum":0,"maximum":999999999}}}""";
        private const string Axes = """{"type":"object","properties":{"dx":{"type":"number"},"dy":{"type":"number"},"dz":{"type":"number"},"droll":{"type":"number"},"dpitch":{"type":"number"},"dyaw":{"type":"number"},"gripper":{"type":"number"}}}""";
        private const string Base64 = """{"type":"string","contentEncoding":"base64"}""";
        private const string Str = """{"type":"string"}""", Int = """{"type":"integer"}""", Num = """{"type":"number"}""",
            Bool = """{"type":"boolean"}""", Nums = """{"type":"array","items":{"type":"number"}}""", Ints = """{"type":"array","items":{"type":"integer"}}""";

        public static readonly Schema CompressedImage = Object("foxglove.CompressedImage", "A compressed image",
            ("timestamp", Time), ("frame_id", Str), ("data", Base64), ("format", Str));

        public static readonly Schema RawImage = Object("foxglove.RawImage", "A raw image",
            ("timestamp", Time), ("frame_id", Str), ("width", Int), ("height", Int), ("encoding", Str), ("step", Int), ("data", Base64));

        public static readonly Schema Command = Object("robotctl.Command", "A 7-D end-effector command as sent after the safety governor",
            ("step", Int), ("sent", Axes), ("requested", Axes), ("clamped_axes", Int), ("clamped", Bool), ("reason", Str));

        public static readonly Schema State = Object("robotctl.ArmState", "Measured end-effector pose",
            ("step", Int), ("x", Num), ("y", Num), ("z", Num), ("roll", Num), ("pitch", Num), ("yaw", Num), ("gripper", Num), ("sequence", Int));

        public static readonly Schema Plan = Object("robotctl.Plan", "One planner result",
            ("step", Int), ("planner", Str), ("iterations", Int), ("final_cost", Num), ("deadline_ms", Num), ("elapsed_ms", Num),
            ("seed", Int), ("costs", Nums), ("chunk_shape", Ints), ("chunk", Nums));

        public static readonly Schema Timings = Object("robotctl.StepTimings", "Section timings of one control step, ms",
            [("step", Int), .. StepTimings.SectionNames.Select(s => (s + "_ms", Num))]);

        public static readonly Schema Surprise = Object("robotctl.Surprise", "Distance between predicted and observed latents",
            ("step", Int), ("value", Num));

        public static readonly Schema Event = Object("robotctl.Event", "E-stop, fault, reconnect, gap, overrun or note",
            ("step", Int), ("kind", Str), ("message", Str), ("count", Int));

        private static Schema Object(string title, string description, params (string Name, string Type)[] properties) =>
            new(title, "{\"title\":\"" + title + "\",\"description\":\"" + description + "\",\"type\":\"object\",\"properties\":{" +
                string.Join(",", properties.Select(p => "\"" + p.Name + "\":" + p.Type)) + "}}");
    }

    /// <summary>Counts bytes written (the output may not be seekable).</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Written { get; private set; }
        public override void Write(byte[] buffer, int offset, int count) { inner.Write(buffer, offset, count); Written += count; }
        public override void Write(ReadOnlySpan<byte> buffer) { inner.Write(buffer); Written += buffer.Length; }
        public override void Flush() => inner.Flush();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written;
        public override long Position { get => Written; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
