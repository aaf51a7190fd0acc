namespace RobotCtl.Runtime;

/// <summary>"Sim" section: the simulated workcell used when the camera or the arm is "sim".</summary>
public sealed class SimOptions
{
    public const string SectionName = "Sim";

    /// <summary>Scene string (see src/RobotCtl.Sim/README.md), e.g. "seed=0".</summary>
    public string Scene { get; set; } = "seed=0";

    public int Width { get; set; } = 224;
    public int Height { get; set; } = 224;
    public double Fps { get; set; } = 30;

    /// <summary>
    /// Render each frame when the loop reads it instead of on the camera's own clock (<see cref="Fps"/>): every frame
    /// then shows exactly the commands applied so far, so sim runs are reproducible. `eval` turns it on.
    /// </summary>
    public bool RenderOnRead { get; set; }

    public void Validate()
    {
        RuntimeOptions.Require(Width is >= 16 and <= 4096, "Width", "16..4096", Width, SectionName);
        RuntimeOptions.Require(Height is >= 16 and <= 4096, "Height", "16..4096", Height, SectionName);
        RuntimeOptions.Require(Fps is > 0 and <= 1000, "Fps", "(0, 1000]", Fps, SectionName);
    }
}
