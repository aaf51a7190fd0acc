namespace RobotCtl.Dashboard;

/// <summary>What an export wrote.</summary>
public sealed record PictureExport(string Path, int Frames, int Width, int Height, double Fps);
