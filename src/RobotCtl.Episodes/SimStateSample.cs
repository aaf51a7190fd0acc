namespace RobotCtl.Episodes;

/// <summary>
/// The simulator's true state at a step (never seen by the model; for evaluation and as training labels):
/// effector position (metres) and block pose (metres, radians).
/// </summary>
public readonly record struct SimStateSample(double EeX, double EeY, double EeZ, double BlockX, double BlockY, double BlockYaw);
