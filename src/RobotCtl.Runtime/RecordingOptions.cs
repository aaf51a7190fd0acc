namespace RobotCtl.Runtime;

/// <summary>"Recording" section: where and how episodes are written.</summary>
public sealed class RecordingOptions
{
    public const string SectionName = "Recording";

    public bool Enabled { get; set; } = true;

    /// <summary>Episode directory (one SQLite file per episode).</summary>
    public string Directory { get; set; } = "episodes";

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

/// <summary>"Sim" section: the simulated workcell used when the camera or the arm is "sim".</summary>
public sealed class SimOptions
{
    public const string SectionName = "Sim";

    /// <summary>Scene string (see src/RobotCtl.Sim/README.md), e.g. "seed=0".</summary>
    public string Scene { get; set; } = "seed=0";

    public int Width { get; set; } = 224;
    public int Height { get; set; } = 224;
    public double Fps { get; set; } = 30;

    /// <summary>
    /// Render each frame when the loop reads it instead of on the camera's own clock (<see cref="Fps"/>): every frame
    /// then shows exactly the commands applied so far, so sim runs are reproducible. `eval` turns it on.
    /// </summary>
    public bool RenderOnRead { get; set; }

    public void Validate()
    {
        RuntimeOptions.Require(Width is >= 16 and <= 4096, "Width", "16..4096", Width, SectionName);
        RuntimeOptions.Require(Height is >= 16 and <= 4096, "Height", "16..4096", Height, SectionName);
        RuntimeOptions.Require(Fps is > 0 and <= 1000, "Fps", "(0, 1000]", Fps, SectionName);
    }
}
