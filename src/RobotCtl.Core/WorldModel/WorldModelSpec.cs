namespace RobotCtl.Core.WorldModel;

/// <summary>How frames are turned into the encoder's input: x = (pixel / Scale - Mean[c]) / Std[c], RGB, NCHW.</summary>
public sealed record ImageSpec(int Width, int Height, float Scale, float[] Mean, float[] Std);

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
/// V-JEPA 2-AC's MPC plans from the current frame alone).
/// </summary>
public sealed record PlannerDefaults(
    string Solver = "cem", string Cost = "mse", int Samples = 300, int TopK = 30, int Iterations = 30,
    int Horizon = 5, int Receding = 5, float InitStd = 1.0f, CostShape? CostShape = null,
    string Execute = "best", bool Elitism = true,
    float MeanMomentum = 0f, float StdMomentum = 0f, float GripperDeadband = 0f,
    float[]? InitStdPerDim = null, bool WarmStart = true, bool MeanSample = true, int? ContextFrames = null);

public enum LatentCost { Mse, L1 }

/// <summary>
/// What the runtime needs to know about a loaded world model, independent of how it runs
/// (ONNX Runtime, or an analytic model in tests). Produced from a validated model.json.
/// </summary>
public sealed record WorldModelSpec
{
    public required string Name { get; init; }
    public required string Family { get; init; }
    public required ImageSpec Image { get; init; }

    /// <summary>Latent shape without the batch dimension: [192] for LeWM, [256, 1408] for V-JEPA 2-AC.</summary>
    public required int[] LatentShape { get; init; }

    /// <summary>Product of <see cref="LatentShape"/>.</summary>
    public int LatentSize => LatentShape.Aggregate(1, (a, b) => a * b);

    /// <summary>Low-level action dimension (7 for an end-effector arm).</summary>
    public required int ActionDim { get; init; }

    /// <summary>Low-level actions per predictor step (LeWM frameskip 5).</summary>
    public required int ActionBlock { get; init; }

    /// <summary>Width of one predictor action input: ActionBlock * ActionDim.</summary>
    public int ActionBlockSize => ActionBlock * ActionDim;

    /// <summary>Dataset statistics: the predictor sees (a - mean) / std per low-level dimension.</summary>
    public required float[] ActionMean { get; init; }
    public required float[] ActionStd { get; init; }

    /// <summary>false: the planner holds that dimension at a physical zero delta.</summary>
    public required bool[] ActionSearch { get; init; }

    /// <summary>
    /// For an imported checkpoint whose actions have fewer dimensions than <see cref="ActionDim"/>: which of this
    /// model's dimensions the checkpoint's own action dimensions are, in the checkpoint's order (manifest
    /// action.checkpoint_dims). The predictor graph takes all ActionDim and reads only these; null = all, in order.
    /// Used to read actions given in the checkpoint's own units (`model score`, `plan --context-actions`).
    /// </summary>
    public int[]? CheckpointActionDims { get; init; }

    /// <summary>Values per predictor step in the checkpoint's own layout: ActionBlock x its action dims.</summary>
    public int CheckpointBlockSize => ActionBlock * (CheckpointActionDims?.Length ?? ActionDim);

    /// <summary>Context frames the predictor attends to.</summary>
    public required int History { get; init; }

    /// <summary>Proprioceptive state dimension; 0 when the model takes no state input.</summary>
    public int StateDim { get; init; }

    /// <summary>How a rollout carries the state forward ("ee-pose-euler-xyz"), or null.</summary>
    public string? StateIntegration { get; init; }

    public required PlannerDefaults Planner { get; init; }

    public LatentCost Cost => Planner.Cost.Equals("l1", StringComparison.OrdinalIgnoreCase) ? LatentCost.L1 : LatentCost.Mse;
}
