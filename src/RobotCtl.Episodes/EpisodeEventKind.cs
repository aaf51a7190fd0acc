namespace RobotCtl.Episodes;

/// <summary>Things that happen to an episode outside the regular step rows.</summary>
public enum EpisodeEventKind
{
    /// <summary>Emergency stop pressed or commanded.</summary>
    EStop,
    /// <summary>A fault: link error, model error, safety violation.</summary>
    Fault,
    Disconnect,
    Reconnect,
    /// <summary>Records the recorder could not keep (queue full); <see cref="EventRow.Count"/> says how many.</summary>
    Gap,
    /// <summary>A step that missed its deadline.</summary>
    Overrun,
    /// <summary>Anything else worth a line in the log.</summary>
    Note,
    /// <summary>The loop judged a goal of the chain reached at this step and moved to the next (a decision replay repeats).</summary>
    GoalReached,
    /// <summary>The loop dropped the planner's warm start at this step (surprise: replan or pause; a decision replay repeats).</summary>
    WarmStartReset,
}
