using OpenCvSharp;
using RobotCtl.Core.Vision;

namespace RobotCtl.Vision.Interop;

/// <summary>
/// The one conversion to 8-bit BGR for camera frames and still images: gray -> BGR (replicated), BGRA -> BGR (alpha
/// dropped, not composited), 16-bit -> 8-bit as value / 257 (full range). Other depths and channel counts are refused.
/// Its Mats and their InputArray/OutputArray wrappers are made once, so converting a stream of frames allocates nothing
/// managed. Not thread-safe.
/// </summary>
internal sealed class Bgr8 : IDisposable
{
    private readonly Mat _eight = new(), _bgr = new();
    private readonly OutputArray _eightOut, _bgrOut;
    private readonly InputArray _eightIn;

    public Bgr8()
    {
        _eightOut = OutputArray.Create(_eight);
        _eightIn = InputArray.Create(_eight);
        _bgrOut = OutputArray.Create(_bgr);
    }

    /// <summary>
    /// <paramref name="source"/> as 8-bit BGR: itself when it already is, else a Mat owned by this converter (valid
    /// until the next call). Null with <paramref name="error"/> set for an unsupported depth or channel count.
    /// <paramref name="sourceIn"/> is <paramref name="source"/>'s InputArray (kept by the caller to avoid allocating one).
    /// </summary>
    public Mat? Convert(Mat source, InputArray sourceIn, out string? error)
    {
        error = null;
        var depth = source.Depth();
        var channels = source.Channels();
        if (depth == MatType.CV_8U && channels == 3) return source;
        var eight = source;
        var eightIn = sourceIn;
        if (depth == MatType.CV_16U)
        {
            OpenCvRuntime.ConvertTo(source, _eightOut, MatType.MakeType(MatType.CV_8U, channels), 1.0 / 257.0); // 65535 -> 255, no auto-contrast
            (eight, eightIn) = (_eight, _eightIn);
        }
        else if (depth != MatType.CV_8U)
        {
            error = $"unsupported bit depth: {DepthName(depth)} (supported: 8-bit and 16-bit unsigned)";
            return null;
        }
        switch (channels)
        {
            case 1: OpenCvRuntime.CvtColor(eightIn, _bgrOut, ColorConversionCodes.GRAY2BGR); return _bgr;
            case 3: return eight;
            case 4: OpenCvRuntime.CvtColor(eightIn, _bgrOut, ColorConversionCodes.BGRA2BGR); return _bgr; // alpha dropped
            default:
                error = $"unsupported channel count {channels} (supported: 1 gray, 3 BGR, 4 BGRA)";
                return null;
        }
    }

    /// <summary>Copies an 8-bit BGR Mat into <paramref name="frame"/>, resizing the frame to the Mat's size.</summary>
    public static unsafe void CopyTo(Mat bgr, Frame frame)
    {
        int width = bgr.Cols, height = bgr.Rows;
        frame.EnsureSize(width, height);
        var row = width * 3;
        var step = (long)bgr.Step();
        var data = (byte*)bgr.Data;
        var pixels = frame.Pixels.AsSpan();
        if (step == row)
        {
            new ReadOnlySpan<byte>(data, row * height).CopyTo(pixels);
            return;
        }
        for (var y = 0; y < height; y++) new ReadOnlySpan<byte>(data + y * step, row).CopyTo(pixels.Slice(y * row, row));
    }

    public static int DepthBits(int depth) => depth switch
    {
        MatType.CV_8U or MatType.CV_8S => 8,
        MatType.CV_16U or MatType.CV_16S or MatType.CV_16F => 16,
        MatType.CV_32S or MatType.CV_32F => 32,
        _ => 64,
    };

    private static string DepthName(int depth) => depth switch
    {
        MatType.CV_8S => "8-bit signed",
        MatType.CV_16U => "16-bit unsigned",
        MatType.CV_16S => "16-bit signed",
        MatType.CV_32S => "32-bit integer",
        MatType.CV_32F => "32-bit float",
        MatType.CV_64F => "64-bit float",
        MatType.CV_16F => "16-bit float",
        _ => $"depth {depth}",
    };

    public void Dispose()
    {
        _eightOut.Dispose();
        _eightIn.Dispose();
        _bgrOut.Dispose();
        _eight.Dispose();
        _bgr.Dispose();
    }
}
