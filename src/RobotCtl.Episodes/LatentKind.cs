namespace RobotCtl.Episodes;

/// <summary>What a recorded latent is: the encoding of the observed frame, the model's prediction for it, or a goal.</summary>
public enum LatentKind { Observed, Predicted, Goal }
