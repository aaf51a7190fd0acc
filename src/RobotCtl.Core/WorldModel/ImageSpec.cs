namespace RobotCtl.Core.WorldModel;

/// <summary>How frames are turned into the encoder's input: x = (pixel / Scale - Mean[c]) / Std[c], RGB, NCHW.</summary>
public sealed record ImageSpec(int Width, int Height, float Scale, float[] Mean, float[] Std);
