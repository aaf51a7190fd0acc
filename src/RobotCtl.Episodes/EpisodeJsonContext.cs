using System.Text.Json.Serialization;

namespace RobotCtl.Episodes;

/// <summary>Source-generated JSON for the few arrays stored as text (shapes, goals).</summary>
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(int[]))]
internal sealed partial class EpisodeJsonContext : JsonSerializerContext;
