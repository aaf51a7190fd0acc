namespace RobotCtl.Episodes;

/// <summary>What an export wrote.</summary>
public sealed record Hdf5ExportResult(string Output, int Rows, int Episodes, int Width, int Height, int SourceWidth, int SourceHeight)
{
    public bool Resized => Width != SourceWidth || Height != SourceHeight;
}
