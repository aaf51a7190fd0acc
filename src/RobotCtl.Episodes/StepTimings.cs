namespace RobotCtl.Episodes;

/// <summary>
/// How long each section of one control step took, in milliseconds (the loop's own stopwatch). Recording a
/// step's timings closes the step: <see cref="EpisodeRecorder.LastCommittedStep"/> counts timing rows.
/// </summary>
public readonly record struct StepTimings(
    double CaptureMs, double PreprocessMs, double EncodeMs, double PlanMs, double PublishMs, double RecordMs, double TotalMs)
    // PublishMs: handing the chunk to the streamer; stored and shown as "send" (the column's name in every episode file).
{
    /// <summary>Section names in column order, as stored and as shown by `episodes show`.</summary>
    public static readonly string[] SectionNames = ["capture", "preprocess", "encode", "plan", "send", "record", "total"];

    public double this[int section] => section switch
    {
        0 => CaptureMs, 1 => PreprocessMs, 2 => EncodeMs, 3 => PlanMs, 4 => PublishMs, 5 => RecordMs, 6 => TotalMs,
        _ => throw new ArgumentOutOfRangeException(nameof(section), section, "section must be 0..6"),
    };
}
