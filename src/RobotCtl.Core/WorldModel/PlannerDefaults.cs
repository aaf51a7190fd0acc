namespace RobotCtl.Core.WorldModel;

/// <summary>
/// Planner defaults a model ships with (manifest "planner"); <paramref name="CostShape"/> null = last step only.
/// <paramref name="Execute"/>: what a plan executes, "best" (the best sample scored; robotctl's default) or "mean" (the
/// final sampling mean, as stable-worldmodel's CEM returns); <paramref name="Elitism"/>: re-score the best sample so far
/// in every iteration (robotctl's default; stable-worldmodel does not). <paramref name="MeanMomentum"/>,
/// <paramref name="StdMomentum"/>: the weight kept on the previous mean / std at each refit (V-JEPA 2-AC's cem: 0.15,
/// 0.15; 0 = plain refit); <paramref name="GripperDeadband"/>: physical gripper actions below it in magnitude become 0
/// (V-JEPA 2-AC: 0.25; 0 = off). <paramref name="InitStdPerDim"/>: the initial std of each low-level action dimension,
/// normalised units, in place of <paramref name="InitStd"/> (V-JEPA 2-AC: 0.05 m for xyz, 1 for the gripper);
/// <paramref name="WarmStart"/>: start each plan from the previous plan's mean (false: from zero, as V-JEPA 2-AC's MPC);
/// <paramref name="MeanSample"/>: sample 0 of every iteration is the current mean (LeWM's CEM; V-JEPA 2-AC's draws all).
/// <paramref name="ContextFrames"/>: the observed frames the loop gives a plan by default (null: the predictor's history;
/// V-JEPA 2-AC's MPC plans from the current frame alone). <paramref name="LatentWeights"/>: weights of the latent's first
/// dimensions in the distance to the goal (<see cref="WorldModel.LatentWeights"/>; null: every dimension 1).
/// </summary>
public sealed record PlannerDefaults(
    string Solver = "cem", string Cost = "mse", int Samples = 300, int TopK = 30, int Iterations = 30,
    int Horizon = 5, int Receding = 5, float InitStd = 1.0f, CostShape? CostShape = null,
    string Execute = "best", bool Elitism = true,
    float MeanMomentum = 0f, float StdMomentum = 0f, float GripperDeadband = 0f,
    float[]? InitStdPerDim = null, bool WarmStart = true, bool MeanSample = true, int? ContextFrames = null,
    float[]? LatentWeights = null);
