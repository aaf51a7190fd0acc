using RobotCtl.Core.Vision;
using RobotCtl.Core.WorldModel;
using RobotCtl.Vision.Calibration;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Vision.Tests;

/// <summary>The preprocessing pipeline against references computed here in plain C#.</summary>
public class PreprocessorTests
{
    // ImageNet statistics, as many encoders use them.
    private static ImageSpec Spec(int w, int h) => new(w, h, 255f, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>(p / scale - mean[c]) / std[c] in RGB order, NCHW, from interleaved BGR bytes of the model's size.</summary>
    private static float[] Reference(ImageSpec spec, Func<int, int, int, double> bgrAt)
    {
        var output = new float[3 * spec.Width * spec.Height];
        for (var c = 0; c < 3; c++)
        for (var y = 0; y < spec.Height; y++)
        for (var x = 0; x < spec.Width; x++)
            output[(c * spec.Height + y) * spec.Width + x] = (float)((bgrAt(x, y, 2 - c) / spec.Scale - spec.Mean[c]) / spec.Std[c]);
        return output;
    }

    private static void AssertClose(float[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = expected.Select((e, i) => Math.Abs(e - actual[i])).Max();
        Assert.True(worst <= tolerance, $"largest difference {worst}, allowed {tolerance}");
    }

    // One 8-bit level in normalised units for the channel with the smallest std (the largest step).
    private static readonly double Level = 1 / (255.0 * 0.224);

    [Fact]
    public void A_frame_of_the_model_size_is_only_reordered_scaled_and_normalised()
    {
        var spec = Spec(32, 24);
        var frame = TestImages.Random(32, 24, 11);
        using var pre = new Preprocessor(spec);
        var output = new float[pre.OutputLength];
        pre.Process(frame, output);
        AssertClose(Reference(spec, (x, y, c) => frame.Pixels[(y * 32 + x) * 3 + c]), output, 1e-5);
    }

    [Fact]
    public void Channel_order_is_rgb_planar()
    {
        var spec = new ImageSpec(4, 2, 1f, [0, 0, 0], [1, 1, 1]);
        using var pre = new Preprocessor(spec);
        var output = new float[pre.OutputLength];
        pre.Process(TestImages.Filled(4, 2, b: 10, g: 20, r: 30), output);
        Assert.Equal(Enumerable.Repeat(30f, 8).Concat(Enumerable.Repeat(20f, 8)).Concat(Enumerable.Repeat(10f, 8)), output);
    }

    [Fact]
    public void A_uniform_frame_downscales_to_the_same_colour()
    {
        var spec = Spec(224, 224);
        var frame = TestImages.Filled(640, 480, 17, 140, 251);
        using var pre = new Preprocessor(spec);
        var output = new float[pre.OutputLength];
        pre.Process(frame, output);
        byte[] bgr = [17, 140, 251];
        AssertClose(Reference(spec, (_, _, c) => bgr[c]), output, 1e-5);
    }

    [Fact]
    public void Downscaling_by_two_averages_each_two_by_two_block()
    {
        var spec = Spec(40, 30);
        var frame = TestImages.Random(80, 60, 5);
        using var pre = new Preprocessor(spec);
        var output = new float[pre.OutputLength];
        pre.Process(frame, output);
        double Avg(int x, int y, int c)
        {
            int P(int xx, int yy) => frame.Pixels[(yy * 80 + xx) * 3 + c];
            return (P(2 * x, 2 * y) + P(2 * x + 1, 2 * y) + P(2 * x, 2 * y + 1) + P(2 * x + 1, 2 * y + 1)) / 4.0;
        }
        // Averaged in float, not rounded to 8 bits on the way.
        AssertClose(Reference(spec, Avg), output, 1e-4);
    }

    [Fact]
    public void Downscaling_640x480_to_224x224_matches_a_hand_computed_area_average()
    {
        var spec = Spec(224, 224);
        var frame = TestImages.Random(640, 480, 9);
        using var pre = new Preprocessor(spec);
        var output = new float[pre.OutputLength];
        pre.Process(frame, output);
        AssertClose(Reference(spec, (x, y, c) => AreaAverage(frame, x, y, c, 640.0 / 224, 480.0 / 224)), output, 1e-4);
    }

    [Fact]
    public void Downscaling_agrees_with_OpenCVs_INTER_AREA_to_its_rounding()
    {
        var spec = new ImageSpec(224, 224, 1f, [0, 0, 0], [1, 1, 1]);
        var frame = TestImages.Random(640, 480, 4);
        using var pre = new Preprocessor(spec);
        var output = new float[pre.OutputLength];
        pre.Process(frame, output);
        var opencv = new Frame(224, 224);
        Preprocessor.OpenCvResizeArea(frame, opencv);
        // OpenCV rounds each average to 8 bits: within half a level (plus float noise) of ours.
        AssertClose(Reference(spec, (x, y, c) => opencv.Pixels[(y * 224 + x) * 3 + c]), output, 0.5 + 1e-3);
    }

    [Fact]
    public void Upscaling_uses_OpenCVs_INTER_AREA()
    {
        var spec = Spec(64, 48);
        var frame = TestImages.Random(40, 30, 8);
        using var pre = new Preprocessor(spec);
        var output = new float[pre.OutputLength];
        pre.Process(frame, output);
        var opencv = new Frame(64, 48);
        Preprocessor.OpenCvResizeArea(frame, opencv);
        AssertClose(Reference(spec, (x, y, c) => opencv.Pixels[(y * 64 + x) * 3 + c]), output, 1e-5);
    }

    /// <summary>The mean of the source pixels under the destination pixel's footprint, weighted by overlap.</summary>
    private static double AreaAverage(Frame frame, int dx, int dy, int c, double sx, double sy)
    {
        double x0 = dx * sx, x1 = x0 + sx, y0 = dy * sy, y1 = y0 + sy, sum = 0, area = 0;
        for (var y = (int)Math.Floor(y0); y < Math.Ceiling(y1); y++)
        for (var x = (int)Math.Floor(x0); x < Math.Ceiling(x1); x++)
        {
            var w = (Math.Min(x + 1, x1) - Math.Max(x, x0)) * (Math.Min(y + 1, y1) - Math.Max(y, y0));
            sum += w * frame.Pixels[(y * frame.Width + x) * 3 + c];
            area += w;
        }
        return sum / area;
    }

    [Fact]
    public void The_crop_region_is_what_reaches_the_model()
    {
        var spec = Spec(32, 24);
        var frame = TestImages.Random(100, 80, 3);
        using var pre = new Preprocessor(spec, crop: new CropRegion(10, 20, 32, 24));
        var output = new float[pre.OutputLength];
        pre.Process(frame, output);
        AssertClose(Reference(spec, (x, y, c) => frame.Pixels[((y + 20) * 100 + x + 10) * 3 + c]), output, 1e-5);
    }

    private static CameraCalibration Distorted(int w, int h) => new()
    {
        ImageWidth = w, ImageHeight = h,
        Intrinsics = new CameraIntrinsics(150, 148, 81.5, 58.25),
        Distortion = new DistortionCoefficients(-0.25, 0.08, 0.002, -0.001, 0),
    };

    private static Frame Smooth(int w, int h)
    {
        var frame = new Frame(w, h);
        for (var y = 0; y < h; y++)
        for (var x = 0; x < w; x++)
        {
            var i = (y * w + x) * 3;
            frame.Pixels[i] = (byte)(40 + 150.0 * x / w);
            frame.Pixels[i + 1] = (byte)(40 + 150.0 * y / h);
            frame.Pixels[i + 2] = (byte)(128 + 90 * Math.Sin(x / 9.0) * Math.Cos(y / 11.0));
        }
        return frame;
    }

    [Fact]
    public void Undistortion_samples_each_pixel_where_the_lens_put_it()
    {
        const int w = 160, h = 120;
        var calibration = Distorted(w, h);
        var frame = Smooth(w, h);
        var spec = Spec(w, h);
        using var pre = new Preprocessor(spec, calibration);
        Assert.True(pre.Undistorts);
        var output = new float[pre.OutputLength];
        pre.Process(frame, output);

        // Reference: forward distortion model (OpenCV's), then bilinear sampling; black outside the frame.
        var (k, d) = (calibration.Intrinsics, calibration.Distortion);
        double Sample(int u, int v, int c)
        {
            double x = (u - k.Cx) / k.Fx, y = (v - k.Cy) / k.Fy, r2 = x * x + y * y;
            var radial = 1 + d.K1 * r2 + d.K2 * r2 * r2 + d.K3 * r2 * r2 * r2;
            var xd = x * radial + 2 * d.P1 * x * y + d.P2 * (r2 + 2 * x * x);
            var yd = y * radial + d.P1 * (r2 + 2 * y * y) + 2 * d.P2 * x * y;
            double sx = k.Fx * xd + k.Cx, sy = k.Fy * yd + k.Cy;
            int x0 = (int)Math.Floor(sx), y0 = (int)Math.Floor(sy);
            double fx = sx - x0, fy = sy - y0;
            double P(int xx, int yy) => xx < 0 || yy < 0 || xx >= w || yy >= h ? 0 : frame.Pixels[(yy * w + xx) * 3 + c];
            return (1 - fy) * ((1 - fx) * P(x0, y0) + fx * P(x0 + 1, y0)) + fy * ((1 - fx) * P(x0, y0 + 1) + fx * P(x0 + 1, y0 + 1));
        }
        var expected = Reference(spec, Sample);
        // Compare away from the border, where the black fill and OpenCV's border handling differ by design.
        var worst = 0.0;
        for (var c = 0; c < 3; c++)
        for (var y = 8; y < h - 8; y++)
        for (var x = 8; x < w - 8; x++)
        {
            var i = (c * h + y) * w + x;
            worst = Math.Max(worst, Math.Abs(expected[i] - output[i]));
        }
        // OpenCV's maps carry 1/32-pixel fixed point and its bilinear weights 1/1024: within two levels.
        Assert.True(worst <= 2 * Level, $"largest difference {worst / Level:0.00} levels");
        // And the lens matters: the distorted frame itself is far from the reference.
        using var plain = new Preprocessor(spec);
        var raw = new float[plain.OutputLength];
        plain.Process(frame, raw);
        Assert.True(expected.Select((e, i) => Math.Abs(e - raw[i])).Max() > 20 * Level);
    }

    [Fact]
    public void Cropping_after_undistortion_equals_the_crop_of_the_undistorted_frame()
    {
        const int w = 160, h = 120;
        var calibration = Distorted(w, h);
        var frame = Smooth(w, h);
        using var full = new Preprocessor(Spec(w, h), calibration);
        var whole = new float[full.OutputLength];
        full.Process(frame, whole);
        var crop = new CropRegion(30, 20, 64, 48);
        using var cropped = new Preprocessor(Spec(64, 48), calibration with { Crop = crop });
        var part = new float[cropped.OutputLength];
        cropped.Process(frame, part);
        for (var c = 0; c < 3; c++)
        for (var y = 0; y < 48; y++)
        for (var x = 0; x < 64; x++)
            Assert.Equal(whole[(c * h + y + 20) * w + x + 30], part[(c * 48 + y) * 64 + x]);
    }

    [Fact]
    public void Zero_distortion_skips_the_remap()
    {
        var calibration = Distorted(64, 48) with { Intrinsics = new CameraIntrinsics(60, 60, 32, 24), Distortion = DistortionCoefficients.None };
        using var pre = new Preprocessor(Spec(64, 48), calibration);
        Assert.False(pre.Undistorts);
        var frame = TestImages.Random(64, 48, 1);
        var output = new float[pre.OutputLength];
        pre.Process(frame, output);
        AssertClose(Reference(Spec(64, 48), (x, y, c) => frame.Pixels[(y * 64 + x) * 3 + c]), output, 1e-5);
    }

    [Fact]
    public void Bad_inputs_are_refused_with_the_reason()
    {
        using var pre = new Preprocessor(Spec(32, 24), Distorted(160, 120));
        Assert.Contains("needs 2304", Assert.Throws<ArgumentException>(() => pre.Process(TestImages.Random(160, 120, 1), new float[10])).Message);
        Assert.Contains("calibration is for 160x120", Assert.Throws<ArgumentException>(() => pre.Process(TestImages.Random(100, 100, 1), new float[2304])).Message);
        using var cropped = new Preprocessor(Spec(32, 24), crop: new CropRegion(50, 50, 64, 64));
        Assert.Contains("does not lie inside the 100x80 frame",
            Assert.Throws<ArgumentException>(() => cropped.Process(TestImages.Random(100, 80, 1), new float[2304])).Message);
        Assert.Throws<ArgumentException>(() => new Preprocessor(new ImageSpec(32, 24, 255, [0, 0], [1, 1, 1])));
        Assert.Throws<ArgumentException>(() => new Preprocessor(new ImageSpec(32, 24, 255, [0, 0, 0], [1, 0, 1])));
        Assert.Throws<CalibrationException>(() => new Preprocessor(Spec(32, 24), Distorted(160, 120) with { Intrinsics = new CameraIntrinsics(-1, 100, 80, 60) }));
    }

    [Fact]
    public void Processing_allocates_nothing_after_warm_up()
    {
        using var pre = new Preprocessor(Spec(224, 224), Distorted(640, 480) with { Intrinsics = new CameraIntrinsics(600, 600, 320, 240) });
        var frame = TestImages.Random(640, 480, 2);
        var output = new float[pre.OutputLength];
        pre.Process(frame, output);
        Assert.Equal(0, Allocations.Of(() => pre.Process(frame, output), times: 20));
    }
}
