namespace RobotCtl.Core.Vision;

/// <summary>
/// 8-bit, 3-channel downsampling by <see cref="AreaWeights"/>: rows first, then columns, in float32, rounded to the
/// nearest integer (ties to even). Used where the result must stay 8-bit (the HDF5 export's --size), with the same
/// weights and order of sums as the preprocessor. Buffers are kept between calls for one source/target size.
/// Not thread-safe.
/// </summary>
public sealed class AreaResampler
{
    private AreaWeights? _x, _y;
    private float[] _rowSums = [];

    /// <summary>Resizes <paramref name="source"/> (interleaved 3-channel, Width*3 bytes per row) into <paramref name="destination"/>.</summary>
    public void Resize(ReadOnlySpan<byte> source, int width, int height, Span<byte> destination, int outWidth, int outHeight)
    {
        if (source.Length < width * height * 3) throw new ArgumentException($"source holds {source.Length} bytes, {width}x{height}x3 needs {width * height * 3}", nameof(source));
        if (destination.Length < outWidth * outHeight * 3)
            throw new ArgumentException($"destination holds {destination.Length} bytes, {outWidth}x{outHeight}x3 needs {outWidth * outHeight * 3}", nameof(destination));
        if (_x is null || _x.Source != width || _x.Target != outWidth) _x = AreaWeights.Compute(width, outWidth);
        if (_y is null || _y.Source != height || _y.Target != outHeight) _y = AreaWeights.Compute(height, outHeight);
        var rowLength = width * 3;
        if (_rowSums.Length < rowLength) _rowSums = new float[rowLength];
        var sums = _rowSums.AsSpan(0, rowLength);
        for (var y = 0; y < outHeight; y++)
        {
            sums.Clear();
            var wy = _y.Weight.AsSpan(y * _y.Taps, _y.Taps);
            for (var t = 0; t < wy.Length; t++)
            {
                var weight = wy[t];
                if (weight == 0f) continue;
                var row = source.Slice((_y.Start[y] + t) * rowLength, rowLength);
                for (var k = 0; k < rowLength; k++) sums[k] += weight * row[k];
            }
            var output = destination.Slice(y * outWidth * 3, outWidth * 3);
            for (var x = 0; x < outWidth; x++)
            {
                var wx = _x.Weight.AsSpan(x * _x.Taps, _x.Taps);
                var first = _x.Start[x] * 3;
                float c0 = 0, c1 = 0, c2 = 0;
                for (var t = 0; t < wx.Length; t++)
                {
                    var p = first + 3 * t;
                    c0 += wx[t] * sums[p];
                    c1 += wx[t] * sums[p + 1];
                    c2 += wx[t] * sums[p + 2];
                }
                output[3 * x] = ToByte(c0);
                output[3 * x + 1] = ToByte(c1);
                output[3 * x + 2] = ToByte(c2);
            }
        }
    }

    /// <summary>Resizes a frame into another frame's size.</summary>
    public void Resize(Frame source, Frame destination) =>
        Resize(source.Pixels, source.Width, source.Height, destination.Pixels, destination.Width, destination.Height);

    private static byte ToByte(float v) => (byte)Math.Clamp(MathF.Round(v), 0f, 255f);
}
