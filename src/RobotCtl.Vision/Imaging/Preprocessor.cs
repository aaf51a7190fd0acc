using RobotCtl.Core.Vision;
using RobotCtl.Core.WorldModel;
using RobotCtl.Vision.Calibration;
using RobotCtl.Vision.Interop;

namespace RobotCtl.Vision.Imaging;

/// <summary>
/// The one way a BGR frame becomes the encoder's input, used alike for live frames, goal images and replayed
/// frames: [undistort with the camera calibration] -> [crop] -> resize to the model's size (INTER_AREA) ->
/// BGR to RGB -> x = (pixel / Scale - Mean[c]) / Std[c] -> planar NCHW floats (batch 1).
/// The undistortion maps are computed once at construction; all intermediate buffers live in the native context,
/// so <see cref="Process"/> allocates nothing. Not thread-safe: one instance per thread that preprocesses.
/// </summary>
public sealed unsafe class Preprocessor : IDisposable
{
    private readonly PreprocessorHandle _handle;

    /// <param name="spec">The model's input image: size, scale, per-channel mean and std (RGB order).</param>
    /// <param name="calibration">When given and its distortion is not zero, frames are undistorted first; frames must then be
    /// the calibration's size.</param>
    /// <param name="crop">Region of the (undistorted) frame to keep; defaults to the calibration's crop, else the whole frame.</param>
    public Preprocessor(ImageSpec spec, CameraCalibration? calibration = null, CropRegion? crop = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Width <= 0 || spec.Height <= 0) throw new ArgumentException($"model input size must be positive, found {spec.Width}x{spec.Height}", nameof(spec));
        if (spec.Mean is not { Length: 3 } || spec.Std is not { Length: 3 })
            throw new ArgumentException($"image mean and std need 3 values (RGB), found {spec.Mean?.Length ?? 0} and {spec.Std?.Length ?? 0}", nameof(spec));
        if (!(spec.Scale > 0) || !float.IsFinite(spec.Scale)) throw new ArgumentException($"image scale must be positive, found {spec.Scale}", nameof(spec));
        if (spec.Std.Any(s => !(s > 0) || !float.IsFinite(s))) throw new ArgumentException($"image std must be positive, found [{string.Join(", ", spec.Std)}]", nameof(spec));
        calibration?.Validate();

        Spec = spec;
        Calibration = calibration;
        Crop = crop ?? calibration?.Crop;
        if (calibration is not null) Crop?.EnsureInside(calibration.ImageWidth, calibration.ImageHeight);

        // (p / scale - mean) / std == p * (1 / (scale * std)) + (-mean / std)
        var mul = stackalloc float[3];
        var add = stackalloc float[3];
        for (var c = 0; c < 3; c++)
        {
            mul[c] = 1f / (spec.Scale * spec.Std[c]);
            add[c] = -spec.Mean[c] / spec.Std[c];
        }
        if (NativeMethods.rcv_pre_create(spec.Width, spec.Height, mul, add, out _handle) != NativeMethods.Ok)
            throw Fail("cannot create the preprocessor");
        // Zero distortion undistorts to the identity: skip the remap rather than blur through an interpolation.
        if (calibration is not null && !calibration.Distortion.IsZero)
        {
            var k = calibration.CameraMatrix();
            var d = calibration.DistortionVector();
            fixed (double* kp = k)
            fixed (double* dp = d)
                if (NativeMethods.rcv_pre_set_undistort(_handle, calibration.ImageWidth, calibration.ImageHeight, kp, dp) != NativeMethods.Ok)
                {
                    var error = Fail("cannot compute the undistortion maps");
                    _handle.Dispose();
                    throw error;
                }
            Undistorts = true;
        }
    }

    public ImageSpec Spec { get; }
    public CameraCalibration? Calibration { get; }
    public CropRegion? Crop { get; }
    public bool Undistorts { get; }

    /// <summary>Floats in one processed frame: 3 * Height * Width.</summary>
    public int OutputLength => 3 * Spec.Width * Spec.Height;

    /// <summary>Writes the model input for <paramref name="frame"/> into <paramref name="destination"/> (planar R, G, B).</summary>
    public void Process(Frame frame, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (destination.Length < OutputLength)
            throw new ArgumentException($"destination holds {destination.Length} floats, the model input needs {OutputLength}", nameof(destination));
        if (Undistorts && (frame.Width != Calibration!.ImageWidth || frame.Height != Calibration.ImageHeight))
            throw new ArgumentException(
                $"frame is {frame.Width}x{frame.Height} but the camera calibration is for {Calibration.ImageWidth}x{Calibration.ImageHeight}", nameof(frame));
        var crop = Crop ?? new CropRegion(0, 0, frame.Width, frame.Height);
        if (Crop is not null) crop.EnsureInside(frame.Width, frame.Height);
        int rc;
        fixed (byte* src = frame.Pixels)
        fixed (float* dst = destination)
            rc = NativeMethods.rcv_pre_run(_handle, src, frame.Width, frame.Height, crop.X, crop.Y, crop.Width, crop.Height, dst, destination.Length);
        if (rc != NativeMethods.Ok) throw Fail("preprocessing failed");
    }

    public void Dispose() => _handle.Dispose();

    /// <summary>cv::resize INTER_AREA into <paramref name="destination"/>'s size: the reference for the area resampling in <see cref="Process"/>.</summary>
    internal static void OpenCvResizeArea(Frame source, Frame destination)
    {
        int rc;
        fixed (byte* src = source.Pixels)
        fixed (byte* dst = destination.Pixels)
            rc = NativeMethods.rcv_resize_area(src, source.Width, source.Height, dst, destination.Width, destination.Height);
        if (rc != NativeMethods.Ok) throw Fail("cv::resize failed");
    }

    private static VisionException Fail(string what) => new($"{what}: {NativeMethods.LastError()}");
}
