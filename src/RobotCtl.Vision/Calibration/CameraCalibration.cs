using System.Text.Json;
using System.Text.Json.Serialization;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Vision.Calibration;

/// <summary>
/// A camera's calibration file (camera.json): intrinsics, distortion and the image size they belong to, plus an
/// optional crop of the undistorted image and, when written by <c>robotctl calibrate camera</c>, how it was made.
/// This is what <see cref="Preprocessor"/> reads for undistortion.
/// </summary>
public sealed record CameraCalibration
{
    public required int ImageWidth { get; init; }
    public required int ImageHeight { get; init; }
    public required CameraIntrinsics Intrinsics { get; init; }
    public required DistortionCoefficients Distortion { get; init; }

    /// <summary>RMS reprojection error of the calibration, pixels (null for a calibration not measured, e.g. derived).</summary>
    public double? RmsReprojectionErrorPx { get; init; }

    /// <summary>Optional region of the undistorted image that the model sees.</summary>
    public CropRegion? Crop { get; init; }

    public CheckerboardInfo? Board { get; init; }
    public IReadOnlyList<string>? BoardsUsed { get; init; }
    public IReadOnlyList<RejectedBoard>? BoardsRejected { get; init; }
    public DateTime? CreatedUtc { get; init; }

    /// <summary>Free text: where the numbers come from.</summary>
    public string? Note { get; init; }

    /// <summary>The 3x3 camera matrix, row-major.</summary>
    public double[] CameraMatrix() => [Intrinsics.Fx, 0, Intrinsics.Cx, 0, Intrinsics.Fy, Intrinsics.Cy, 0, 0, 1];

    public double[] DistortionVector() => [Distortion.K1, Distortion.K2, Distortion.P1, Distortion.P2, Distortion.K3];

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Throws <see cref="CalibrationException"/> naming the first implausible value.</summary>
    public void Validate(string where = "calibration")
    {
        if (ImageWidth <= 0 || ImageHeight <= 0)
            throw new CalibrationException($"{where}: image size must be positive, found {ImageWidth}x{ImageHeight}");
        var k = Intrinsics ?? throw new CalibrationException($"{where}: intrinsics missing");
        var d = Distortion ?? throw new CalibrationException($"{where}: distortion missing");
        if (!(k.Fx > 0) || !(k.Fy > 0) || !double.IsFinite(k.Fx) || !double.IsFinite(k.Fy))
            throw new CalibrationException($"{where}: focal lengths must be finite and positive, found fx={k.Fx}, fy={k.Fy}");
        if (!(k.Cx >= 0 && k.Cx <= ImageWidth) || !(k.Cy >= 0 && k.Cy <= ImageHeight))
            throw new CalibrationException($"{where}: principal point ({k.Cx}, {k.Cy}) lies outside the {ImageWidth}x{ImageHeight} image");
        if (!new[] { d.K1, d.K2, d.P1, d.P2, d.K3 }.All(double.IsFinite))
            throw new CalibrationException($"{where}: distortion coefficients must be finite, found {d}");
        if (Crop is { } crop)
        {
            try { crop.EnsureInside(ImageWidth, ImageHeight); }
            catch (ArgumentException e) { throw new CalibrationException($"{where}: {e.Message}", e); }
        }
    }

    /// <summary>Reads and validates a camera.json. Throws <see cref="CalibrationException"/> naming the file.</summary>
    public static CameraCalibration Load(string path)
    {
        CameraCalibration? calibration;
        try
        {
            using var stream = File.OpenRead(path);
            calibration = JsonSerializer.Deserialize<CameraCalibration>(stream, Json);
        }
        catch (JsonException e)
        {
            throw new CalibrationException($"camera calibration '{path}': not a valid calibration file: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CalibrationException($"camera calibration '{path}': {e.Message}", e);
        }
        if (calibration is null) throw new CalibrationException($"camera calibration '{path}': the file holds null");
        calibration.Validate($"camera calibration '{path}'");
        return calibration;
    }

    public void Save(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        File.WriteAllText(path, ToJson() + Environment.NewLine);
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}
