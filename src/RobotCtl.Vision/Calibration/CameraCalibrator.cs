using RobotCtl.Core.Vision;
using RobotCtl.Vision.Imaging;
using OpenCvSharp;
using RobotCtl.Vision.Interop;

namespace RobotCtl.Vision.Calibration;

/// <summary>Checkerboard camera calibration (findChessboardCorners + cornerSubPix + calibrateCamera).</summary>
public static unsafe class CameraCalibrator
{
    /// <summary>Finds the board's inner corners (sub-pixel) in an image: x,y pairs row by row, or null.</summary>
    public static float[]? FindCorners(Frame image, CheckerboardSpec board)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(board);
        board.Validate();
        OpenCvRuntime.EnsureLoaded();
        try
        {
            using var gray = new Mat();
            fixed (byte* p = image.Pixels)
            {
                using var bgr = Mat.FromPixelData(image.Height, image.Width, MatType.CV_8UC3, (IntPtr)p);
                Cv2.CvtColor(bgr, gray, ColorConversionCodes.BGR2GRAY);
            }
            if (!Cv2.FindChessboardCorners(gray, new Size(board.Cols, board.Rows), out var points,
                    ChessboardFlags.AdaptiveThresh | ChessboardFlags.NormalizeImage | ChessboardFlags.FastCheck) ||
                points.Length != board.CornerCount)
                return null;
            // Refinement window: about half the smallest corner spacing, so it never reaches a neighbouring corner.
            var spacing = double.MaxValue;
            for (var r = 0; r < board.Rows; r++)
            for (var c = 0; c + 1 < board.Cols; c++)
                spacing = Math.Min(spacing, Point2f.Distance(points[r * board.Cols + c + 1], points[r * board.Cols + c]));
            var half = Math.Clamp((int)(spacing / 2.5), 2, 11);
            points = Cv2.CornerSubPix(gray, points, new Size(half, half), new Size(-1, -1),
                new TermCriteria(CriteriaTypes.Eps | CriteriaTypes.Count, 50, 1e-3));
            var corners = new float[board.CornerCount * 2];
            for (var i = 0; i < points.Length; i++) (corners[2 * i], corners[2 * i + 1]) = (points[i].X, points[i].Y);
            return corners;
        }
        catch (OpenCVException e)
        {
            throw new VisionException($"checkerboard detection failed: {e.Message}", e);
        }
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
        var objectPoints = new Point3f[n];
        for (var i = 0; i < n; i++) objectPoints[i] = new Point3f((float)(i % board.Cols * board.SquareMm), (float)(i / board.Cols * board.SquareMm), 0);
        var imagePoints = views.Select(v => Enumerable.Range(0, n).Select(i => new Point2f(v.Corners[2 * i], v.Corners[2 * i + 1])).ToArray()).ToArray();
        var k = new double[3, 3];
        var d = new double[5];
        double rms;
        Vec3d[] rotations, translations;
        try
        {
            rms = Cv2.CalibrateCamera(Enumerable.Repeat(objectPoints, views.Count), imagePoints, new Size(width, height), k, d,
                out rotations, out translations);
        }
        catch (OpenCVException e)
        {
            throw new CalibrationException($"calibration failed: {e.Message}", e);
        }
        // Per-view RMS reprojection error, as cv::calibrateCamera's perViewErrors: sqrt(mean squared pixel distance).
        var perView = new double[views.Count];
        for (var v = 0; v < views.Count; v++)
        {
            Cv2.ProjectPoints(objectPoints, [rotations[v].Item0, rotations[v].Item1, rotations[v].Item2],
                [translations[v].Item0, translations[v].Item1, translations[v].Item2], k, d, out var projected, out _);
            var sum = 0.0;
            for (var i = 0; i < n; i++)
            {
                double dx = projected[i].X - imagePoints[v][i].X, dy = projected[i].Y - imagePoints[v][i].Y;
                sum += dx * dx + dy * dy;
            }
            perView[v] = Math.Sqrt(sum / n);
        }
        var calibration = new CameraCalibration
        {
            ImageWidth = width,
            ImageHeight = height,
            Intrinsics = new CameraIntrinsics(k[0, 0], k[1, 1], k[0, 2], k[1, 2]),
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
        OpenCvRuntime.EnsureLoaded();
        var k = calibration.CameraMatrix();
        var d = calibration.DistortionVector();
        var count = points.Length / 3;
        try
        {
            fixed (double* o = points)
            fixed (double* r = rotation)
            fixed (double* t = translation)
            fixed (double* kp = k)
            fixed (double* dp = d)
            fixed (double* output = pixels)
            {
                using var objects = Mat.FromPixelData(count, 1, MatType.CV_64FC3, (IntPtr)o);
                using var rvec = Mat.FromPixelData(3, 1, MatType.CV_64FC1, (IntPtr)r);
                using var tvec = Mat.FromPixelData(3, 1, MatType.CV_64FC1, (IntPtr)t);
                using var camera = Mat.FromPixelData(3, 3, MatType.CV_64FC1, (IntPtr)kp);
                using var distortion = Mat.FromPixelData(1, 5, MatType.CV_64FC1, (IntPtr)dp);
                using var projected = Mat.FromPixelData(count, 1, MatType.CV_64FC2, (IntPtr)output);
                Cv2.ProjectPoints(objects, rvec, tvec, camera, distortion, projected);
                // OpenCV writes into the caller's span only if it kept our buffer.
                if (projected.Data != (IntPtr)output) throw new VisionException("projectPoints reallocated its output");
            }
        }
        catch (OpenCVException e)
        {
            throw new VisionException($"projectPoints failed: {e.Message}", e);
        }
    }
}
