namespace RobotCtl.Episodes.Mcap;

/// <summary>Messages written per topic.</summary>
public sealed record McapExportResult(long Messages, IReadOnlyDictionary<string, long> MessagesPerTopic, long Bytes);
