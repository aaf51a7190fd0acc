namespace RobotCtl.Inference.WorldModel;

/// <summary>
/// model.json predictor.shared_context: a second predictor graph taking a window's first P positions once, at batch 1
/// (<paramref name="ContextLatents"/> [1, P, L], <paramref name="ContextActions"/> [1, P, A]), with the candidates' own
/// positions under the predictor's input names ([B, T, ...]); it writes the predictor's output for those T positions.
/// </summary>
public sealed record SharedContextGraph(string File, string ContextLatents, string ContextActions);
