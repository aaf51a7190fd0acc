using System.Buffers.Binary;

namespace RobotCtl.Vision.Imaging;

/// <summary>
/// Reads the pixel size from the header of PNG, JPEG and BMP files, so that an oversized image is refused before
/// OpenCV allocates memory for it. Other formats are checked after decoding.
/// </summary>
internal static class ImageHeader
{
    public enum Format { Unknown, Png, Jpeg, Bmp }

    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static Format Sniff(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith(PngSignature)) return Format.Png;
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return Format.Jpeg;
        if (data.Length >= 2 && data[0] == (byte)'B' && data[1] == (byte)'M') return Format.Bmp;
        return Format.Unknown;
    }

    /// <summary>The declared size, or null when the header is too short or the format is not one of ours.</summary>
    public static (long Width, long Height)? TryReadSize(ReadOnlySpan<byte> data) => Sniff(data) switch
    {
        // IHDR is always the first chunk: width and height at byte 16, big-endian.
        Format.Png when data.Length >= 24 =>
            (BinaryPrimitives.ReadUInt32BigEndian(data[16..]), BinaryPrimitives.ReadUInt32BigEndian(data[20..])),
        // BITMAPINFOHEADER: width, height (negative = top-down) at bytes 18 and 22.
        Format.Bmp when data.Length >= 26 =>
            (Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(data[18..])), Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(data[22..]))),
        Format.Jpeg => JpegSize(data),
        _ => null,
    };

    /// <summary>A JPEG whose entropy-coded data has no end-of-image marker was cut short.</summary>
    public static bool IsTruncatedJpeg(ReadOnlySpan<byte> data)
    {
        var scan = FindMarker(data, 0xDA);
        if (scan < 0) return true;
        // In entropy-coded data 0xFF is always followed by 0x00 or a restart marker, so FF D9 is the real end.
        for (var i = data.Length - 2; i > scan; i--)
            if (data[i] == 0xFF && data[i + 1] == 0xD9) return false;
        return true;
    }

    private static (long, long)? JpegSize(ReadOnlySpan<byte> data)
    {
        var i = 2;
        while (i + 9 < data.Length)
        {
            if (data[i] != 0xFF) return null;
            var marker = data[i + 1];
            if (marker == 0xFF) { i++; continue; }
            var length = BinaryPrimitives.ReadUInt16BigEndian(data[(i + 2)..]);
            // SOF0..SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
                return (BinaryPrimitives.ReadUInt16BigEndian(data[(i + 7)..]), BinaryPrimitives.ReadUInt16BigEndian(data[(i + 5)..]));
            if (marker == 0xDA) return null;
            i += 2 + length;
        }
        return null;
    }

    private static int FindMarker(ReadOnlySpan<byte> data, byte marker)
    {
        var i = 2;
        while (i + 3 < data.Length)
        {
            if (data[i] != 0xFF) return -1;
            if (data[i + 1] == 0xFF) { i++; continue; }
            if (data[i + 1] == marker) return i;
            i += 2 + BinaryPrimitives.ReadUInt16BigEndian(data[(i + 2)..]);
        }
        return -1;
    }
}
