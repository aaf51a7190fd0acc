using System.Text.Json.Serialization;

namespace RobotCtl.Vision.Calibration;

/// <summary>OpenCV's radial-tangential distortion model (k1, k2, p1, p2, k3).</summary>
public sealed record DistortionCoefficients(double K1, double K2, double P1, double P2, double K3)
{
    public static DistortionCoefficients None { get; } = new(0, 0, 0, 0, 0);

    [JsonIgnore] public bool IsZero => K1 == 0 && K2 == 0 && P1 == 0 && P2 == 0 && K3 == 0;
}
