using System.CommandLine;
using System.Globalization;
using RobotCtl.Vision;
using RobotCtl.Vision.Calibration;

namespace RobotCtl.Host.Commands;

/// <summary>`robotctl calibrate camera`: checkerboard intrinsics calibration into the camera.json the preprocessing reads.</summary>
internal static class CalibrateCommands
{
    public static Command Create()
    {
        var command = new Command("calibrate", "Calibrate the rig (camera intrinsics and distortion).");
        command.Subcommands.Add(CreateCamera());
        return command;
    }

    private static Command CreateCamera()
    {
        var images = new Option<string>("--images") { Description = "Directory of checkerboard photos (PNG, JPEG, BMP, ...), all of one size", Required = true };
        var board = new Option<string>("--board") { Description = "Inner corners per row x per column, e.g. 9x6", Required = true };
        var square = new Option<double>("--square-mm") { Description = "Edge of one square, millimetres", Required = true };
        var output = new Option<string>("--out") { Description = "Calibration file to write, e.g. calibration/default/camera.json", Required = true };
        var minBoards = new Option<int>("--min-boards") { Description = "Refuse to calibrate from fewer boards than this", DefaultValueFactory = _ => 3 };
        var command = new Command("camera",
            "Find a checkerboard in each image (findChessboardCorners + cornerSubPix), calibrate (calibrateCamera) and write " +
            "intrinsics fx, fy, cx, cy, distortion k1, k2, p1, p2, k3, the image size and the RMS reprojection error.");
        foreach (var o in new Option[] { images, board, square, output, minBoards }) command.Options.Add(o);
        command.SetAction(r =>
        {
            try
            {
                // Bad input is refused before the (slow) corner search, naming the option; the output is checked up front
                // so that a directory given as --out is not found out only after the calibration ("Access denied").
                var imageDir = r.GetValue(images)!;
                if (File.Exists(imageDir)) throw new ArgumentException($"--images {imageDir}: is a file, expected a directory of checkerboard photos");
                if (!Directory.Exists(imageDir)) throw new ArgumentException($"--images {imageDir}: directory not found");
                if (r.GetValue(minBoards) is var min and < 1) throw new ArgumentException($"--min-boards: expected an integer >= 1, found {min}");
                OutputPaths.RequireWritableFile("--out", r.GetValue(output)!, createParent: true);
                CheckerboardSpec spec;
                try
                {
                    spec = CheckerboardSpec.Parse(r.GetValue(board)!, r.GetValue(square));
                }
                catch (FormatException e)
                {
                    // The spec names its fields "board" and "square size": say which option they came from.
                    var option = e.Message.StartsWith("square", StringComparison.Ordinal) ? "--square-mm" : "--board";
                    throw new ArgumentException($"{option}: {e.Message[(e.Message.IndexOf(':') + 1)..].Trim()}", e);
                }
                var report = CameraCalibrator.CalibrateDirectory(imageDir, spec, r.GetValue(minBoards));
                Print(report);
                var path = Path.GetFullPath(r.GetValue(output)!);
                report.Calibration.Save(path);
                Console.WriteLine($"robotctl calibrate camera: wrote {path}");
                return 0;
            }
            catch (CalibrationException e)
            {
                return CliErrors.Fail("calibrate camera", e, exitCode: ExitCodes.Failed);
            }
            catch (Exception e) when (e is FormatException or ArgumentException or IOException or UnauthorizedAccessException or VisionException)
            {
                return CliErrors.Fail("calibrate camera", e);
            }
        });
        return command;
    }

    private static void Print(CalibrationReport report)
    {
        var c = report.Calibration;
        var inv = CultureInfo.InvariantCulture;
        foreach (var view in report.Used)
            Console.WriteLine(string.Format(inv, "  used      {0}  reprojection {1:0.000} px", Path.GetFileName(view.Image), view.ReprojectionErrorPx));
        foreach (var rejected in report.Rejected)
            Console.WriteLine($"  rejected  {Path.GetFileName(rejected.Image)}: {rejected.Reason}");
        Console.WriteLine(string.Format(inv, "boards: {0} used, {1} rejected; image {2}x{3}", report.Used.Count, report.Rejected.Count, c.ImageWidth, c.ImageHeight));
        Console.WriteLine(string.Format(inv, "intrinsics: fx {0:0.###}  fy {1:0.###}  cx {2:0.###}  cy {3:0.###}",
            c.Intrinsics.Fx, c.Intrinsics.Fy, c.Intrinsics.Cx, c.Intrinsics.Cy));
        Console.WriteLine(string.Format(inv, "distortion: k1 {0:0.######}  k2 {1:0.######}  p1 {2:0.######}  p2 {3:0.######}  k3 {4:0.######}",
            c.Distortion.K1, c.Distortion.K2, c.Distortion.P1, c.Distortion.P2, c.Distortion.K3));
        Console.WriteLine(string.Format(inv, "RMS reprojection error: {0:0.0000} px", c.RmsReprojectionErrorPx));
        if (c.RmsReprojectionErrorPx > 1.0)
            Console.WriteLine("warning: an RMS error above 1 px usually means blurred, badly lit or mis-detected boards, or a board that is not flat; " +
                              "check the per-board errors above and retake the worst images");
    }
}
