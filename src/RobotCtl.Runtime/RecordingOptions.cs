namespace RobotCtl.Runtime;

/// <summary>"Recording" section: where and how episodes are written.</summary>
public sealed class RecordingOptions
{
    public const string SectionName = "Recording";

    public bool Enabled { get; set; } = true;

    /// <summary>Episode directory (one SQLite file per episode).</summary>
    public string Directory { get; set; } = "episodes";

    /// <summary>The key of <see cref="Directory"/>, for commands that only look up where episodes are.</summary>
    public const string DirectoryKey = SectionName + ":" + nameof(Directory);

    /// <summary>"png" (lossless: replayed frames are bit-identical) or "jpeg" (smaller, for real cameras).</summary>
    public string FrameFormat { get; set; } = "png";

    public int JpegQuality { get; set; } = 90;

    /// <summary>Records the loop may queue before the recorder counts a gap instead of blocking.</summary>
    public int QueueCapacity { get; set; } = 4096;

    public void Validate()
    {
        RuntimeOptions.Require(!string.IsNullOrWhiteSpace(Directory), "Directory", "a directory", Directory, SectionName);
        RuntimeOptions.Require(FrameFormat is "png" or "jpeg", "FrameFormat", "png or jpeg", FrameFormat, SectionName);
        RuntimeOptions.Require(JpegQuality is >= 1 and <= 100, "JpegQuality", "1..100", JpegQuality, SectionName);
        // The queue's slots are allocated up front: a typo must not ask for gigabytes.
        RuntimeOptions.Require(QueueCapacity is >= 16 and <= 65_536, "QueueCapacity", "16..65536 (its slots are allocated up front)", QueueCapacity, SectionName);
    }
}
