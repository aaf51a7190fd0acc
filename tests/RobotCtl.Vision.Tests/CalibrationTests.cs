using RobotCtl.Core.Vision;
using RobotCtl.Vision.Calibration;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Vision.Tests;

/// <summary>
/// Calibration on checkerboards rendered here from known intrinsics and distortion: each pixel is traced back
/// through the camera model (undistorted by fixed-point iteration, intersected with the board plane) and
/// supersampled 3x3, so the images carry the lens exactly as OpenCV models it.
/// </summary>
public class CalibrationTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private const int W = 640, H = 480;
    private static readonly CheckerboardSpec Board = new(9, 6, 30);
    private static readonly CameraCalibration Truth = new()
    {
        ImageWidth = W, ImageHeight = H,
        Intrinsics = new CameraIntrinsics(610, 605, 322.5, 236.0),
        Distortion = new DistortionCoefficients(-0.12, 0.05, 0.0008, -0.0006, 0),
    };

    // Board poses: rotation (Rodrigues vector, radians) and translation (mm) of the board in the camera frame.
    private static readonly (double[] R, double[] T)[] Poses =
    [
        ([0.0, 0.0, 0.0], [-120, -75, 620]),
        ([0.35, 0.0, 0.0], [-120, -60, 650]),
        ([-0.35, 0.1, 0.05], [-130, -90, 640]),
        ([0.0, 0.4, 0.0], [-150, -75, 620]),
        ([0.1, -0.4, -0.1], [-90, -75, 660]),
        ([0.25, 0.3, 0.2], [-110, -100, 600]),
        ([-0.2, -0.3, -0.15], [-140, -50, 700]),
        ([0.0, 0.0, 0.5], [-60, -120, 640]),
    ];

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static double[,] Rotation(double[] r)
    {
        var theta = Math.Sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
        if (theta < 1e-12) return new double[,] { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };
        double kx = r[0] / theta, ky = r[1] / theta, kz = r[2] / theta, c = Math.Cos(theta), s = Math.Sin(theta), v = 1 - c;
        return new[,]
        {
            { c + kx * kx * v, kx * ky * v - kz * s, kx * kz * v + ky * s },
            { ky * kx * v + kz * s, c + ky * ky * v, ky * kz * v - kx * s },
            { kz * kx * v - ky * s, kz * ky * v + kx * s, c + kz * kz * v },
        };
    }

    /// <summary>Our own forward model: board point (mm) -> pixel, as OpenCV defines it.</summary>
    private static (double U, double V) Project(CameraCalibration cal, double[,] rot, double[] t, double bx, double by)
    {
        var px = rot[0, 0] * bx + rot[0, 1] * by + t[0];
        var py = rot[1, 0] * bx + rot[1, 1] * by + t[1];
        var pz = rot[2, 0] * bx + rot[2, 1] * by + t[2];
        double x = px / pz, y = py / pz, r2 = x * x + y * y;
        var d = cal.Distortion;
        var radial = 1 + d.K1 * r2 + d.K2 * r2 * r2 + d.K3 * r2 * r2 * r2;
        var xd = x * radial + 2 * d.P1 * x * y + d.P2 * (r2 + 2 * x * x);
        var yd = y * radial + d.P1 * (r2 + 2 * y * y) + 2 * d.P2 * x * y;
        return (cal.Intrinsics.Fx * xd + cal.Intrinsics.Cx, cal.Intrinsics.Fy * yd + cal.Intrinsics.Cy);
    }

    private const int Supersampling = 3;

    // The ray (x, y, 1) behind each sub-pixel sample: depends only on the camera, so it is traced back through the
    // lens once (fixed-point iteration of OpenCV's distortion model) and reused for every pose.
    private static readonly Lazy<double[]> Rays = new(() =>
    {
        var (k, d) = (Truth.Intrinsics, Truth.Distortion);
        const int ss = Supersampling;
        var rays = new double[W * H * ss * ss * 2];
        Parallel.For(0, H, v =>
        {
            for (var u = 0; u < W; u++)
            for (var j = 0; j < ss; j++)
            for (var i = 0; i < ss; i++)
            {
                // Pixel (u, v) covers [u - 0.5, u + 0.5): OpenCV puts pixel centres at integer coordinates.
                double xd = (u - 0.5 + (i + 0.5) / ss - k.Cx) / k.Fx, yd = (v - 0.5 + (j + 0.5) / ss - k.Cy) / k.Fy;
                double x = xd, y = yd;
                for (var it = 0; it < 20; it++)
                {
                    var r2 = x * x + y * y;
                    var radial = 1 + d.K1 * r2 + d.K2 * r2 * r2 + d.K3 * r2 * r2 * r2;
                    var dx = 2 * d.P1 * x * y + d.P2 * (r2 + 2 * x * x);
                    var dy = d.P1 * (r2 + 2 * y * y) + 2 * d.P2 * x * y;
                    x = (xd - dx) / radial;
                    y = (yd - dy) / radial;
                }
                var n = (((v * W + u) * ss + j) * ss + i) * 2;
                rays[n] = x;
                rays[n + 1] = y;
            }
        });
        return rays;
    });

    private static Frame Render(double[] r, double[] t)
    {
        var rot = Rotation(r);
        var rays = Rays.Value;
        var frame = new Frame(W, H);
        var sq = Board.SquareMm;
        const int samples = Supersampling * Supersampling;
        double nx = rot[0, 2], ny = rot[1, 2], nz = rot[2, 2], nt = nx * t[0] + ny * t[1] + nz * t[2];
        Parallel.For(0, H, v =>
        {
            for (var u = 0; u < W; u++)
            {
                var sum = 0.0;
                for (var q = 0; q < samples; q++)
                {
                    var n = ((v * W + u) * samples + q) * 2;
                    double x = rays[n], y = rays[n + 1];
                    // The ray meets the board plane n . (P - t) = 0 (n = the board's z axis); back to board millimetres.
                    var s = nt / (nx * x + ny * y + nz);
                    double qx = s * x - t[0], qy = s * y - t[1], qz = s - t[2];
                    var bx = rot[0, 0] * qx + rot[1, 0] * qy + rot[2, 0] * qz;
                    var by = rot[0, 1] * qx + rot[1, 1] * qy + rot[2, 1] * qz;
                    // Squares span [-sq, cols*sq] x [-sq, rows*sq]; white all around them.
                    var onBoard = bx >= -sq && bx < Board.Cols * sq && by >= -sq && by < Board.Rows * sq;
                    var black = onBoard && (((int)Math.Floor(bx / sq) + (int)Math.Floor(by / sq)) & 1) == 0;
                    sum += black ? 20 : 235;
                }
                frame.Pixels.AsSpan((v * W + u) * 3, 3).Fill((byte)Math.Round(sum / samples));
            }
        });
        return frame;
    }

    private List<string> RenderBoards(int count)
    {
        var files = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var path = _dir.File($"board_{i:D2}.png");
            ImageIo.SavePng(path, Render(Poses[i].R, Poses[i].T));
            files.Add(path);
        }
        return files;
    }

    [Fact]
    public void OpenCVs_projection_agrees_with_the_renderers_camera_model()
    {
        var (r, t) = Poses[5];
        var rot = Rotation(r);
        double[] points = [0, 0, 0, 240, 0, 0, 0, 150, 0, 120, 90, 0];
        var pixels = new double[8];
        CameraCalibrator.ProjectPoints(Truth, points, r, t, pixels);
        for (var i = 0; i < 4; i++)
        {
            var (u, v) = Project(Truth, rot, t, points[3 * i], points[3 * i + 1]);
            Assert.Equal(u, pixels[2 * i], 6);
            Assert.Equal(v, pixels[2 * i + 1], 6);
        }
    }

    [Fact]
    public void Corners_are_found_where_the_model_puts_them()
    {
        var (r, t) = Poses[3];
        var corners = CameraCalibrator.FindCorners(Render(r, t), Board);
        Assert.NotNull(corners);
        var rot = Rotation(r);
        var expected = Enumerable.Range(0, Board.CornerCount)
            .Select(i => Project(Truth, rot, t, i % Board.Cols * Board.SquareMm, i / Board.Cols * Board.SquareMm)).ToList();
        // The corner order may start from either end of the board: match each found corner to its nearest.
        var errors = Enumerable.Range(0, Board.CornerCount)
            .Select(i => expected.Min(e => Math.Sqrt(Math.Pow(e.U - corners![2 * i], 2) + Math.Pow(e.V - corners[2 * i + 1], 2))))
            .ToList();
        // Sub-pixel refinement of an anti-aliased, obliquely viewed corner: a few tenths of a pixel at worst.
        Assert.True(errors.Max() < 0.4, $"worst corner {errors.Max():0.000} px from the model");
        Assert.True(errors.Average() < 0.15, $"mean corner error {errors.Average():0.000} px");
        Assert.Null(CameraCalibrator.FindCorners(TestImages.Filled(W, H, 200, 200, 200), Board));
    }

    [Fact]
    public void Calibration_recovers_the_intrinsics_of_rendered_boards()
    {
        var files = RenderBoards(Poses.Length);
        File.WriteAllBytes(_dir.File("zz_blank.png"), []); // an unreadable file: rejected, not fatal
        ImageIo.SavePng(_dir.File("zz_wall.png"), TestImages.Filled(W, H, 90, 90, 90)); // no board: rejected

        var report = CameraCalibrator.CalibrateDirectory(_dir.Path, Board);
        var k = report.Calibration.Intrinsics;
        output.WriteLine($"recovered fx {k.Fx:0.00} fy {k.Fy:0.00} cx {k.Cx:0.00} cy {k.Cy:0.00} {report.Calibration.Distortion} RMS {report.Calibration.RmsReprojectionErrorPx:0.000} px");
        Assert.Equal(Poses.Length, report.Used.Count);
        Assert.Equal(2, report.Rejected.Count);
        Assert.Contains(report.Rejected, x => x.Image.EndsWith("zz_blank.png") && x.Reason.Contains("empty"));
        Assert.Contains(report.Rejected, x => x.Image.EndsWith("zz_wall.png") && x.Reason.Contains("no complete 9x6 checkerboard"));
        Assert.InRange(k.Fx / Truth.Intrinsics.Fx, 0.99, 1.01);
        Assert.InRange(k.Fy / Truth.Intrinsics.Fy, 0.99, 1.01);
        Assert.InRange(k.Cx, Truth.Intrinsics.Cx - 5, Truth.Intrinsics.Cx + 5);
        Assert.InRange(k.Cy, Truth.Intrinsics.Cy - 5, Truth.Intrinsics.Cy + 5);
        Assert.InRange(report.Calibration.Distortion.K1, -0.15, -0.09);
        Assert.True(report.Calibration.RmsReprojectionErrorPx < 0.5, $"RMS {report.Calibration.RmsReprojectionErrorPx} px");
        Assert.All(report.Used, v => Assert.True(v.ReprojectionErrorPx < 0.5));
        Assert.Equal((W, H), (report.Calibration.ImageWidth, report.Calibration.ImageHeight));

        // The file the Preprocessor reads round-trips.
        var path = _dir.File("out/camera.json");
        report.Calibration.Save(path);
        var loaded = CameraCalibration.Load(path);
        Assert.Equal(report.Calibration.Intrinsics, loaded.Intrinsics);
        Assert.Equal(report.Calibration.Distortion, loaded.Distortion);
        Assert.Equal(report.Calibration.BoardsUsed, loaded.BoardsUsed);
        Assert.Equal(new CheckerboardInfo(9, 6, 30), loaded.Board);
    }

    [Fact]
    public void Too_few_boards_is_refused_with_the_reason()
    {
        var files = RenderBoards(2);
        var e = Assert.Throws<CalibrationException>(() => CameraCalibrator.Calibrate(files, Board));
        Assert.Contains("found the 9x6 board in 2 of 2 images, need at least 3", e.Message);
        var wrongBoard = Assert.Throws<CalibrationException>(() => CameraCalibrator.Calibrate(files, new CheckerboardSpec(7, 5, 30), minBoards: 1));
        Assert.Contains("no complete 7x5 checkerboard", wrongBoard.Message);
    }

    [Theory]
    [InlineData("{}", "missing required properties")]
    [InlineData("not json", "not a valid calibration file")]
    [InlineData("""{"imageWidth":640,"imageHeight":480,"intrinsics":{"fx":0,"fy":600,"cx":320,"cy":240},"distortion":{"k1":0,"k2":0,"p1":0,"p2":0,"k3":0}}""", "focal lengths")]
    [InlineData("""{"imageWidth":640,"imageHeight":480,"intrinsics":{"fx":600,"fy":600,"cx":320,"cy":240},"distortion":{"k1":0,"k2":0,"p1":0,"p2":0,"k3":0},"crop":{"x":600,"y":0,"width":100,"height":100}}""", "does not lie inside")]
    public void Bad_calibration_files_are_refused_naming_the_file(string json, string reason)
    {
        var path = _dir.File("camera.json");
        File.WriteAllText(path, json);
        var e = Assert.Throws<CalibrationException>(() => CameraCalibration.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Theory]
    [InlineData("9x6", 25, 9, 6)]
    [InlineData("7X5", 20.5, 7, 5)]
    public void Board_specs_parse(string text, double mm, int cols, int rows) =>
        Assert.Equal(new CheckerboardSpec(cols, rows, mm), CheckerboardSpec.Parse(text, mm));

    [Theory]
    [InlineData("9by6", 25)]
    [InlineData("1x6", 25)]
    [InlineData("9x6", 0)]
    public void Bad_board_specs_are_refused(string text, double mm) =>
        Assert.Throws<FormatException>(() => CheckerboardSpec.Parse(text, mm));
}

public class ShippedCalibrationTests
{
    [Fact]
    public void The_default_rigs_camera_json_loads_and_undistorts_to_the_identity()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "robotctl.sln"))) dir = dir.Parent;
        Assert.NotNull(dir);
        var calibration = CameraCalibration.Load(Path.Combine(dir.FullName, "calibration", "default", "camera.json"));
        Assert.Equal((224, 224), (calibration.ImageWidth, calibration.ImageHeight));
        Assert.True(calibration.Distortion.IsZero);
        using var pre = new Preprocessor(new Core.WorldModel.ImageSpec(224, 224, 255, [0, 0, 0], [1, 1, 1]), calibration);
        Assert.False(pre.Undistorts);
    }
}
