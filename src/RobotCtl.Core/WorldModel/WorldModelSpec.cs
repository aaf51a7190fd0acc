namespace RobotCtl.Core.WorldModel;

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
