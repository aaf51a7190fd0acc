using BenchmarkDotNet.Attributes;
using RobotCtl.Core.Vision;
using RobotCtl.Core.WorldModel;
using RobotCtl.Vision.Calibration;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Benchmarks;

/// <summary>
/// The per-frame vision work of the control loop: a 640x480 camera frame to a 224x224 NCHW model input
/// (area resize + RGB + normalise), with and without undistortion; OpenCV's own INTER_AREA resize for comparison;
/// JPEG encoding for episode logs; the capture thread's per-frame frozen-stream check.
/// </summary>
[MemoryDiagnoser]
public class VisionBenchmarks
{
    private static readonly ImageSpec Spec = new(224, 224, 255f, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);
    private Frame _frame = null!, _smooth = null!, _previous = null!;
    private RobotCtl.Vision.Cameras.FrozenStreamDetector _frozen = null!;
    private Preprocessor _plain = null!, _undistort = null!;
    private float[] _input = null!;
    private byte[] _jpeg = null!;
    private Frame _resized = null!;

    [GlobalSetup]
    public void Setup()
    {
        _frame = new Frame(640, 480);
        new Random(1).NextBytes(_frame.Pixels);
        _plain = new Preprocessor(Spec);
        _undistort = new Preprocessor(Spec, new CameraCalibration
        {
            ImageWidth = 640, ImageHeight = 480,
            Intrinsics = new CameraIntrinsics(600, 600, 320, 240),
            Distortion = new DistortionCoefficients(-0.12, 0.05, 0.001, -0.001, 0),
        });
        _input = new float[_plain.OutputLength];
        _smooth = new Frame(640, 480);
        for (var i = 0; i < _smooth.Pixels.Length; i++) _smooth.Pixels[i] = (byte)(i / 3 % 640 * 255 / 640);
        _previous = new Frame(640, 480);
        _frozen = new RobotCtl.Vision.Cameras.FrozenStreamDetector(30);
        _jpeg = new byte[1 << 20];
        _resized = new Frame(224, 224);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _plain.Dispose();
        _undistort.Dispose();
    }

    [Benchmark(Baseline = true, Description = "preprocess 640x480 -> 224x224")]
    public void Preprocess() => _plain.Process(_frame, _input);

    [Benchmark(Description = "undistort + preprocess 640x480 -> 224x224")]
    public void UndistortAndPreprocess() => _undistort.Process(_frame, _input);

    [Benchmark(Description = "cv::resize INTER_AREA 640x480 -> 224x224 (8-bit, for comparison)")]
    public void OpenCvResizeArea() => Preprocessor.OpenCvResizeArea(_frame, _resized);

    [Benchmark(Description = "JPEG q90 640x480 (gradient)")]
    public int EncodeJpeg() => ImageIo.EncodeJpeg(_smooth, _jpeg, 90);

    [Benchmark(Description = "frozen-stream check 640x480 (sample hash)")]
    public bool FrozenCheck() => _frozen.IsSameImage(_frame, _previous);
}
