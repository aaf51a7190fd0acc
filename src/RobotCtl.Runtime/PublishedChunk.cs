namespace RobotCtl.Runtime;

/// <summary>A chunk as published: its generation (<see cref="ActionChunkStream.Generation"/>) and the serial its first action gets.</summary>
public readonly record struct PublishedChunk(long Generation, long FirstSerial);
