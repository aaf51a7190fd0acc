using System.Runtime.Intrinsics;
using OpenCvSharp;
using RobotCtl.Core.Vision;
using RobotCtl.Core.WorldModel;
using RobotCtl.Vision.Calibration;
using RobotCtl.Vision.Interop;

namespace RobotCtl.Vision.Imaging;

/// <summary>
/// The one way a BGR frame becomes the encoder's input, used alike for live frames, goal images and replayed
/// frames: [undistort with the camera calibration] -> [crop] -> resize to the model's size (INTER_AREA) ->
/// BGR to RGB -> x = (pixel / Scale - Mean[c]) / Std[c] -> planar NCHW floats (batch 1).
/// Undistortion is OpenCV's (maps computed once at construction, cv::remap per frame into preallocated Mats); the
/// downscale, channel swap and normalisation are one C# pass (rows then columns with <see cref="AreaWeights"/>, in
/// float, SIMD), which is faster than OpenCV's separate resize and convert passes and never rounds to 8 bits. Every
/// buffer and OpenCvSharp wrapper is made at construction or on the first frame of a size, so <see cref="Process"/>
/// allocates nothing. Not thread-safe: one instance per thread that preprocesses.
/// </summary>
public sealed unsafe class Preprocessor : IDisposable
{
    private readonly float _mulR, _mulG, _mulB, _addR, _addG, _addB;

    // Undistortion (null when not undistorting): the frame is remapped through the crop window of the maps, which
    // yields exactly the crop of the undistorted frame.
    private readonly Mat? _map1, _map2, _map1Crop, _map2Crop, _undistorted;
    private readonly InputArray? _map1In, _map2In;
    private readonly OutputArray? _undistortedOut;
    private readonly CropRegion _undistortCrop;

    // Upscaling (crop smaller than the model input): cv::resize INTER_AREA, made on first use.
    private Mat? _upSource, _upResized;
    private InputArray? _upSourceIn;
    private OutputArray? _upResizedOut;

    // Area-resampling tables and one row of vertical sums, for the current source size.
    private AreaWeights? _x, _y;
    private float[] _rowSums = [];

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
        (_mulR, _addR) = (1f / (spec.Scale * spec.Std[0]), -spec.Mean[0] / spec.Std[0]);
        (_mulG, _addG) = (1f / (spec.Scale * spec.Std[1]), -spec.Mean[1] / spec.Std[1]);
        (_mulB, _addB) = (1f / (spec.Scale * spec.Std[2]), -spec.Mean[2] / spec.Std[2]);

        // Zero distortion undistorts to the identity: skip the remap rather than blur through an interpolation.
        if (calibration is null || calibration.Distortion.IsZero) return;
        OpenCvRuntime.EnsureLoaded();
        int w = calibration.ImageWidth, h = calibration.ImageHeight;
        _undistortCrop = Crop ?? new CropRegion(0, 0, w, h);
        var window = new Rect(_undistortCrop.X, _undistortCrop.Y, _undistortCrop.Width, _undistortCrop.Height);
        try
        {
            _map1 = new Mat();
            _map2 = new Mat();
            var k = calibration.CameraMatrix();
            var d = calibration.DistortionVector();
            fixed (double* kp = k)
            fixed (double* dp = d)
            {
                using var camera = Mat.FromPixelData(3, 3, MatType.CV_64FC1, (IntPtr)kp);
                using var distortion = Mat.FromPixelData(1, 5, MatType.CV_64FC1, (IntPtr)dp);
                using var identity = new Mat();
                // Same camera matrix for the output: undistorted pixels keep the calibrated focal length and centre.
                // Fixed-point maps (CV_16SC2 + CV_16UC1): the fastest remap.
                Cv2.InitUndistortRectifyMap(camera, distortion, identity, camera, new Size(w, h), MatType.CV_16SC2, _map1, _map2);
            }
            _map1Crop = new Mat(_map1, window);
            _map2Crop = new Mat(_map2, window);
            _undistorted = new Mat(window.Height, window.Width, MatType.CV_8UC3);
            _map1In = InputArray.Create(_map1Crop);
            _map2In = InputArray.Create(_map2Crop);
            _undistortedOut = OutputArray.Create(_undistorted);
        }
        catch (OpenCVException e)
        {
            Dispose();
            throw new VisionException($"cannot compute the undistortion maps: {e.Message}", e);
        }
        Undistorts = true;
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
        if (frame.Pixels.Length < frame.Width * frame.Height * 3)
            throw new ArgumentException($"frame is {frame.Width}x{frame.Height} but holds {frame.Pixels.Length} bytes, not {frame.Width * frame.Height * 3}", nameof(frame));

        fixed (byte* pixels = frame.Pixels)
        fixed (float* output = destination)
        {
            byte* source;
            long stride;
            if (Undistorts)
            {
                OpenCvRuntime.Remap(pixels, frame.Width, frame.Height, _undistortedOut!, _map1In!, _map2In!);
                source = (byte*)_undistorted!.Data;
                stride = (long)_undistorted.Step();
            }
            else
            {
                stride = frame.Width * 3L;
                source = pixels + crop.Y * stride + crop.X * 3L;
            }
            if (crop.Width < Spec.Width || crop.Height < Spec.Height) Upscale(source, stride, crop.Width, crop.Height, output);
            else Downscale(source, stride, crop.Width, crop.Height, output);
        }
    }

    /// <summary>
    /// Exact area averaging, separable because each output pixel's footprint is a rectangle: rows first over whole
    /// contiguous source rows (SIMD), then columns on the summed row, straight into normalised planar floats. Per value
    /// the operations are those of the former C++ kernel and of <see cref="AreaResampler"/>: from 0, add weight * pixel
    /// tap by tap (multiply, then add), rows before columns.
    /// </summary>
    private void Downscale(byte* source, long stride, int width, int height, float* output)
    {
        int ow = Spec.Width, oh = Spec.Height;
        if (_x is null || _x.Source != width || _x.Target != ow) _x = AreaWeights.Compute(width, ow);
        if (_y is null || _y.Source != height || _y.Target != oh) _y = AreaWeights.Compute(height, oh);
        var rowLength = width * 3;
        // One float of padding: the column pass loads 4 floats from a pixel's first channel.
        if (_rowSums.Length < rowLength + 1) _rowSums = new float[rowLength + 1];
        long plane = (long)ow * oh;
        float* r = output, g = output + plane, b = output + 2 * plane;
        int xTaps = _x.Taps, yTaps = _y.Taps;

        fixed (float* sums = _rowSums)
        fixed (float* xWeights = _x.Weight)
        fixed (float* yWeights = _y.Weight)
        fixed (int* xStart = _x.Start)
        fixed (int* yStart = _y.Start)
        {
            for (var y = 0; y < oh; y++)
            {
                SumRows(source + yStart[y] * stride, stride, yWeights + y * yTaps, yTaps, sums, rowLength);
                // Columns: one 4-wide multiply-add per tap covers a pixel's three channels (the 4th lane is ignored).
                var row = (long)y * ow;
                for (var x = 0; x < ow; x++)
                {
                    var wx = xWeights + x * xTaps;
                    var p = sums + 3 * xStart[x];
                    var sum = Vector128<float>.Zero;
                    for (var t = 0; t < xTaps; t++) sum += Vector128.Create(wx[t]) * Vector128.Load(p + 3 * t);
                    b[row + x] = sum.GetElement(0) * _mulB + _addB;
                    g[row + x] = sum.GetElement(1) * _mulG + _addG;
                    r[row + x] = sum.GetElement(2) * _mulR + _addR;
                }
            }
        }
    }

    /// <summary>
    /// sums[k] = sum over taps t of weights[t] * first[t * stride + k], k &lt; length: a block of the row is widened
    /// from bytes to floats and accumulated over all taps in registers, then stored once. Zero weights are skipped.
    /// </summary>
    private static void SumRows(byte* first, long stride, float* weights, int taps, float* sums, int length)
    {
        var k = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; k <= length - 64; k += 64)
            {
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (var t = 0; t < taps; t++)
                {
                    var weight = weights[t];
                    if (weight == 0f) continue;
                    var w = Vector512.Create(weight);
                    var (low, high) = Vector512.Widen(Vector512.Load(first + t * stride + k));
                    var (p0, p1) = Vector512.Widen(low);
                    var (p2, p3) = Vector512.Widen(high);
                    // Values are 0..255: the signed int -> float conversion is exact and the fast one.
                    a0 += w * Vector512.ConvertToSingle(p0.AsInt32());
                    a1 += w * Vector512.ConvertToSingle(p1.AsInt32());
                    a2 += w * Vector512.ConvertToSingle(p2.AsInt32());
                    a3 += w * Vector512.ConvertToSingle(p3.AsInt32());
                }
                a0.Store(sums + k);
                a1.Store(sums + k + 16);
                a2.Store(sums + k + 32);
                a3.Store(sums + k + 48);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; k <= length - 32; k += 32)
            {
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (var t = 0; t < taps; t++)
                {
                    var weight = weights[t];
                    if (weight == 0f) continue;
                    var w = Vector256.Create(weight);
                    var (low, high) = Vector256.Widen(Vector256.Load(first + t * stride + k));
                    var (p0, p1) = Vector256.Widen(low);
                    var (p2, p3) = Vector256.Widen(high);
                    a0 += w * Vector256.ConvertToSingle(p0.AsInt32());
                    a1 += w * Vector256.ConvertToSingle(p1.AsInt32());
                    a2 += w * Vector256.ConvertToSingle(p2.AsInt32());
                    a3 += w * Vector256.ConvertToSingle(p3.AsInt32());
                }
                a0.Store(sums + k);
                a1.Store(sums + k + 8);
                a2.Store(sums + k + 16);
                a3.Store(sums + k + 24);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; k <= length - 16; k += 16)
            {
                Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (var t = 0; t < taps; t++)
                {
                    var weight = weights[t];
                    if (weight == 0f) continue;
                    var w = Vector128.Create(weight);
                    var (low, high) = Vector128.Widen(Vector128.Load(first + t * stride + k));
                    var (p0, p1) = Vector128.Widen(low);
                    var (p2, p3) = Vector128.Widen(high);
                    a0 += w * Vector128.ConvertToSingle(p0.AsInt32());
                    a1 += w * Vector128.ConvertToSingle(p1.AsInt32());
                    a2 += w * Vector128.ConvertToSingle(p2.AsInt32());
                    a3 += w * Vector128.ConvertToSingle(p3.AsInt32());
                }
                a0.Store(sums + k);
                a1.Store(sums + k + 4);
                a2.Store(sums + k + 8);
                a3.Store(sums + k + 12);
            }
        }
        for (; k < length; k++)
        {
            var sum = 0f;
            for (var t = 0; t < taps; t++)
            {
                var weight = weights[t];
                if (weight != 0f) sum += weight * first[t * stride + k];
            }
            sums[k] = sum;
        }
    }

    /// <summary>Upscaling (a crop smaller than the model input): cv::resize INTER_AREA (bilinear there), then normalised planes.</summary>
    private void Upscale(byte* source, long stride, int width, int height, float* output)
    {
        int ow = Spec.Width, oh = Spec.Height;
        if (_upSource is null)
        {
            OpenCvRuntime.EnsureLoaded();
            (_upSource, _upResized) = (new Mat(), new Mat(oh, ow, MatType.CV_8UC3));
            (_upSourceIn, _upResizedOut) = (InputArray.Create(_upSource), OutputArray.Create(_upResized));
        }
        // Copy the crop into native memory for OpenCV (Create reallocates only when the size changes).
        _upSource.Create(height, width, MatType.CV_8UC3);
        var upStride = (long)_upSource.Step();
        for (var y = 0; y < height; y++)
            new ReadOnlySpan<byte>(source + y * stride, width * 3).CopyTo(new Span<byte>((byte*)_upSource.Data + y * upStride, width * 3));
        OpenCvRuntime.ResizeArea(_upSourceIn!, _upResizedOut!, new Size(ow, oh));
        long plane = (long)ow * oh;
        float* r = output, g = output + plane, b = output + 2 * plane;
        var resizedStride = (long)_upResized!.Step();
        for (var y = 0; y < oh; y++)
        {
            var px = (byte*)_upResized.Data + y * resizedStride;
            var row = (long)y * ow;
            for (var x = 0; x < ow; x++, px += 3)
            {
                b[row + x] = px[0] * _mulB + _addB;
                g[row + x] = px[1] * _mulG + _addG;
                r[row + x] = px[2] * _mulR + _addR;
            }
        }
    }

    public void Dispose()
    {
        _map1In?.Dispose();
        _map2In?.Dispose();
        _undistortedOut?.Dispose();
        _map1Crop?.Dispose();
        _map2Crop?.Dispose();
        _map1?.Dispose();
        _map2?.Dispose();
        _undistorted?.Dispose();
        _upSourceIn?.Dispose();
        _upResizedOut?.Dispose();
        _upSource?.Dispose();
        _upResized?.Dispose();
    }

    /// <summary>cv::resize INTER_AREA into <paramref name="destination"/>'s size: the reference for the area resampling in <see cref="Process"/>.</summary>
    internal static void OpenCvResizeArea(Frame source, Frame destination)
    {
        OpenCvRuntime.EnsureLoaded();
        fixed (byte* src = source.Pixels)
        fixed (byte* dst = destination.Pixels)
        {
            using var input = Mat.FromPixelData(source.Height, source.Width, MatType.CV_8UC3, (IntPtr)src);
            using var output = Mat.FromPixelData(destination.Height, destination.Width, MatType.CV_8UC3, (IntPtr)dst);
            Cv2.Resize(input, output, new Size(destination.Width, destination.Height), 0, 0, InterpolationFlags.Area);
            if (output.Data != (IntPtr)dst) throw new VisionException("cv::resize reallocated its output");
        }
    }
}
