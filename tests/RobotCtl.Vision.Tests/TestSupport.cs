using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using RobotCtl.Core.Vision;

namespace RobotCtl.Vision.Tests;

public static class TestImages
{
    public static Frame Filled(int width, int height, byte b, byte g, byte r)
    {
        var frame = new Frame(width, height);
        for (var i = 0; i < frame.Pixels.Length; i += 3) (frame.Pixels[i], frame.Pixels[i + 1], frame.Pixels[i + 2]) = (b, g, r);
        return frame;
    }

    public static Frame Random(int width, int height, int seed)
    {
        var frame = new Frame(width, height);
        new Random(seed).NextBytes(frame.Pixels);
        return frame;
    }

    // Frame index coding that survives MJPEG: IndexBits blocks of 40x40 pixels, white = 1, black = 0.
    public const int IndexBits = 10;
    private const int Block = 40;

    public static Frame WithIndex(int width, int height, int index)
    {
        var frame = Filled(width, height, 128, 128, 128);
        for (var bit = 0; bit < IndexBits; bit++)
        {
            var value = (byte)(((index >> bit) & 1) == 1 ? 255 : 0);
            var x0 = bit % 8 * Block;
            var y0 = bit / 8 * Block;
            for (var y = y0; y < y0 + Block; y++)
                frame.Pixels.AsSpan((y * width + x0) * 3, Block * 3).Fill(value);
        }
        return frame;
    }

    public static int ReadIndex(Frame frame)
    {
        var index = 0;
        for (var bit = 0; bit < IndexBits; bit++)
        {
            var x = bit % 8 * Block + Block / 2;
            var y = bit / 8 * Block + Block / 2;
            if (frame.Pixels[(y * frame.Width + x) * 3 + 1] > 128) index |= 1 << bit;
        }
        return index;
    }

    /// <summary>
    /// A minimal PNG writer (our own, independent of OpenCV) for the formats OpenCV's writer will not produce from
    /// BGR8: gray, gray+alpha, RGBA, 16-bit. colorType: 0 gray, 2 RGB, 4 gray+alpha, 6 RGBA. samples are big-endian
    /// for 16-bit, one row after another.
    /// </summary>
    public static byte[] Png(int width, int height, int bitDepth, int colorType, byte[] samples)
    {
        var channels = colorType switch { 0 => 1, 2 => 3, 4 => 2, 6 => 4, _ => throw new ArgumentException("colorType") };
        var rowBytes = width * channels * bitDepth / 8;
        if (samples.Length != rowBytes * height) throw new ArgumentException("sample count");
        var raw = new MemoryStream();
        for (var y = 0; y < height; y++)
        {
            raw.WriteByte(0); // filter: none
            raw.Write(samples, y * rowBytes, rowBytes);
        }
        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) z.Write(raw.ToArray());

        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = (byte)bitDepth;
        ihdr[9] = (byte)colorType;
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        s.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(len, Crc32(typed));
        s.Write(len);
    }

    private static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }

    /// <summary>A PFM (portable float map) colour image: 32-bit float samples, a bit depth we refuse.</summary>
    public static byte[] Pfm(int width, int height, float value)
    {
        var header = Encoding.ASCII.GetBytes($"PF\n{width} {height}\n-1.0\n");
        var data = new byte[width * height * 3 * 4];
        for (var i = 0; i < data.Length; i += 4) BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i), value);
        return header.Concat(data).ToArray();
    }
}
