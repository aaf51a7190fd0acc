namespace RobotCtl.Sim;

/// <summary>How the sim camera projects the scene.</summary>
public enum SimProjection
{
    /// <summary>Straight down, parallel rays: the table maps linearly to pixels (+x right, +y up).</summary>
    TopDown,
    /// <summary>A pinhole camera in front of the table (on the -y side), looking down at the workspace.</summary>
    Oblique,
}
