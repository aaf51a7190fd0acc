using RobotCtl.Core.Arm;
using RobotCtl.Planning;

namespace RobotCtl.Runtime.Composition;

/// <summary>What a planner is made from: the loaded model, the resolved options, the rig's per-step limits in the model's action frame, and the mapping to the robot frame.</summary>
public sealed record PlannerContext(Core.WorldModel.IWorldModel Model, PlannerOptions Options, ActionBounds Bounds, ActionMapping Mapping);
