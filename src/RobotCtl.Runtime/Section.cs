namespace RobotCtl.Runtime;

/// <summary>
/// The timed sections of one control cycle (ARCHITECTURE.md). Publish is handing the plan's chunk to the streamer (what
/// the episode's timings table keeps as send_ms, its column name since the first episodes).
/// </summary>
public enum Section { Capture, Preprocess, Encode, Plan, Publish, Record }
