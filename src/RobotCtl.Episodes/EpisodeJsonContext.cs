using System.Text.Json.Serialization;

namespace RobotCtl.Episodes;

/// <summary>Source-generated JSON for the few arrays stored as text (shapes, goals, a plan context's frame references).</summary>
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(int[]))]
[JsonSerializable(typeof(long[]))]
internal sealed partial class EpisodeJsonContext : JsonSerializerContext;
