using System.Globalization;
using RobotCtl.Core.Vision;
using RobotCtl.Vision.Imaging;
using RobotCtl.Vision.Interop;

namespace RobotCtl.Vision.Calibration;

/// <summary>A checkerboard target: inner corners per row (Cols) and per column (Rows), square edge in millimetres.</summary>
public sealed record CheckerboardSpec(int Cols, int Rows, double SquareMm)
{
    public int CornerCount => Cols * Rows;

    /// <summary>Parses "COLSxROWS" (inner corners, e.g. "9x6") with the square size in millimetres.</summary>
    public static CheckerboardSpec Parse(string board, double squareMm)
    {
        ArgumentNullException.ThrowIfNull(board);
        var parts = board.Split('x', 'X');
        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var cols) ||
            !int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var rows))
            throw new FormatException($"board: expected COLSxROWS inner corners (e.g. 9x6), found '{board}'");
        var spec = new CheckerboardSpec(cols, rows, squareMm);
        spec.Validate();
        return spec;
    }

    public void Validate()
    {
        if (Cols < 2 || Rows < 2) throw new FormatException($"board: expected at least 2x2 inner corners, found {Cols}x{Rows}");
        if (!(SquareMm > 0) || !double.IsFinite(SquareMm)) throw new FormatException($"square size: expected a positive length in mm, found {SquareMm}");
    }
}

/// <summary>The corners found in one image.</summary>
public sealed record BoardView(string Image, float[] Corners, double ReprojectionErrorPx = double.NaN);

/// <summary>The result of a calibration run.</summary>
public sealed record CalibrationReport(CameraCalibration Calibration, IReadOnlyList<BoardView> Used, IReadOnlyList<RejectedBoard> Rejected);

/// <summary>Checkerboard camera calibration (findChessboardCorners + cornerSubPix + calibrateCamera).</summary>
public static unsafe class CameraCalibrator
{
    /// <summary>Finds the board's inner corners (sub-pixel) in an image: x,y pairs row by row, or null.</summary>
    public static float[]? FindCorners(Frame image, CheckerboardSpec board)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(board);
        board.Validate();
        var corners = new float[board.CornerCount * 2];
        int found, rc;
        fixed (byte* p = image.Pixels)
        fixed (float* c = corners)
            rc = NativeMethods.rcv_find_chessboard(p, image.Width, image.Height, board.Cols, board.Rows, c, out found);
        if (rc != NativeMethods.Ok) throw new VisionException($"checkerboard detection failed: {NativeMethods.LastError()}");
        return found == 1 ? corners : null;
    }

    /// <summary>Calibrates from every image file in a directory (sorted by name).</summary>
    public static CalibrationReport CalibrateDirectory(string directory, CheckerboardSpec board, int minBoards = 3)
    {
        if (!Directory.Exists(directory)) throw new CalibrationException($"calibration images: directory '{directory}' does not exist");
        var files = ImageIo.ListImages(directory);
        if (files.Length == 0)
            throw new CalibrationException($"calibration images: no image files ({string.Join(", ", ImageIo.FileExtensions)}) in '{directory}'");
        return Calibrate(files, board, minBoards);
    }

    /// <summary>
    /// Finds the board in each image and calibrates from those where it is found. Images that cannot be loaded, do
    /// not show the whole board, or differ in size from the first usable image are listed as rejected. Throws
    /// <see cref="CalibrationException"/> when fewer than <paramref name="minBoards"/> boards are found.
    /// </summary>
    public static CalibrationReport Calibrate(IReadOnlyList<string> imagePaths, CheckerboardSpec board, int minBoards = 3)
    {
        ArgumentNullException.ThrowIfNull(imagePaths);
        board.Validate();
        if (minBoards < 1) throw new ArgumentOutOfRangeException(nameof(minBoards), $"at least one board is needed, found {minBoards}");
        var used = new List<BoardView>();
        var rejected = new List<RejectedBoard>();
        int width = 0, height = 0;
        foreach (var path in imagePaths)
        {
            Frame image;
            try
            {
                image = ImageIo.Load(path);
            }
            catch (ImageLoadException e)
            {
                rejected.Add(new RejectedBoard(path, e.Reason));
                continue;
            }
            if (width != 0 && (image.Width != width || image.Height != height))
            {
                rejected.Add(new RejectedBoard(path, $"image is {image.Width}x{image.Height}, the first board image is {width}x{height}"));
                continue;
            }
            var corners = FindCorners(image, board);
            if (corners is null)
            {
                rejected.Add(new RejectedBoard(path, $"no complete {board.Cols}x{board.Rows} checkerboard found"));
                continue;
            }
            (width, height) = (image.Width, image.Height);
            used.Add(new BoardView(path, corners));
        }
        if (used.Count < minBoards)
            throw new CalibrationException(
                $"too few checkerboards: found the {board.Cols}x{board.Rows} board in {used.Count} of {imagePaths.Count} images, " +
                $"need at least {minBoards}" + (rejected.Count > 0 ? $" (first rejection: {Path.GetFileName(rejected[0].Image)}: {rejected[0].Reason})" : ""));

        var (calibration, perView) = Solve(used, board, width, height);
        var views = used.Select((v, i) => v with { ReprojectionErrorPx = perView[i] }).ToList();
        calibration = calibration with
        {
            Board = new CheckerboardInfo(board.Cols, board.Rows, board.SquareMm),
            BoardsUsed = views.Select(v => v.Image).ToList(),
            BoardsRejected = rejected,
            CreatedUtc = DateTime.UtcNow,
        };
        return new CalibrationReport(calibration, views, rejected);
    }

    private static (CameraCalibration, double[]) Solve(List<BoardView> views, CheckerboardSpec board, int width, int height)
    {
        var n = board.CornerCount;
        var objectPoints = new float[views.Count * n * 3];
        var imagePoints = new float[views.Count * n * 2];
        for (var v = 0; v < views.Count; v++)
        {
            for (var i = 0; i < n; i++)
            {
                var j = v * n + i;
                objectPoints[3 * j] = (float)(i % board.Cols * board.SquareMm);
                objectPoints[3 * j + 1] = (float)(i / board.Cols * board.SquareMm);
            }
            views[v].Corners.CopyTo(imagePoints, v * n * 2);
        }
        var k = new double[9];
        var d = new double[5];
        var perView = new double[views.Count];
        double rms;
        int rc;
        fixed (float* o = objectPoints)
        fixed (float* im = imagePoints)
        fixed (double* kp = k)
        fixed (double* dp = d)
        fixed (double* pv = perView)
            rc = NativeMethods.rcv_calibrate(o, im, n, views.Count, width, height, kp, dp, out rms, pv);
        if (rc != NativeMethods.Ok) throw new CalibrationException($"calibration failed: {NativeMethods.LastError()}");
        var calibration = new CameraCalibration
        {
            ImageWidth = width,
            ImageHeight = height,
            Intrinsics = new CameraIntrinsics(k[0], k[4], k[2], k[5]),
            Distortion = new DistortionCoefficients(d[0], d[1], d[2], d[3], d[4]),
            RmsReprojectionErrorPx = rms,
        };
        return (calibration, perView);
    }

    /// <summary>
    /// Projects 3-D points (x,y,z triples, in the board's units) seen from pose (Rodrigues rotation vector, translation)
    /// through the calibration's camera: cv::projectPoints. Writes x,y pairs into <paramref name="pixels"/>.
    /// </summary>
    public static void ProjectPoints(CameraCalibration calibration, ReadOnlySpan<double> points, ReadOnlySpan<double> rotation,
        ReadOnlySpan<double> translation, Span<double> pixels)
    {
        ArgumentNullException.ThrowIfNull(calibration);
        if (points.Length == 0 || points.Length % 3 != 0) throw new ArgumentException("points must be non-empty x,y,z triples", nameof(points));
        if (rotation.Length != 3 || translation.Length != 3) throw new ArgumentException("rotation and translation need 3 values each");
        if (pixels.Length < points.Length / 3 * 2) throw new ArgumentException("pixels needs 2 values per point", nameof(pixels));
        var k = calibration.CameraMatrix();
        var d = calibration.DistortionVector();
        int rc;
        fixed (double* o = points)
        fixed (double* r = rotation)
        fixed (double* t = translation)
        fixed (double* kp = k)
        fixed (double* dp = d)
        fixed (double* output = pixels)
            rc = NativeMethods.rcv_project_points(o, points.Length / 3, r, t, kp, dp, output);
        if (rc != NativeMethods.Ok) throw new VisionException($"projectPoints failed: {NativeMethods.LastError()}");
    }
}
