namespace RobotCtl.Sim.Tasks;

/// <summary>
/// One sampled episode of a task: the start scene (block pose and effector start given explicitly, so the scene is
/// the whole start state), the goal state the goal image shows, and the target.
/// </summary>
public sealed record SimTaskEpisode(
    SimTaskKind Task, int Seed, int Index, SimSceneOptions Scene, SimSnapshot Goal, double TargetX, double TargetY, double TargetYaw);
