using System.Buffers;
using RobotCtl.Core.Vision;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Vision.Tests;

public class ImageIoTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Write(string name, byte[] bytes)
    {
        var path = _dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Png_snapshots_round_trip_losslessly()
    {
        var frame = TestImages.Random(97, 61, 7);
        var path = _dir.File("sub/goal.png");
        ImageIo.SavePng(path, frame);
        var loaded = ImageIo.Load(path, out var info);
        Assert.Equal(frame.Pixels, loaded.Pixels);
        Assert.Equal(new ImageInfo(97, 61, 3, 8), info);
        Assert.Equal("none", info.Conversion);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!)); // no temporary file left behind
    }

    [Fact]
    public void Jpeg_encodes_into_a_caller_buffer_and_decodes_close_to_the_original()
    {
        var frame = TestImages.Filled(64, 48, 30, 120, 200);
        var buffer = new byte[64 * 1024];
        var length = ImageIo.EncodeJpeg(frame, buffer, quality: 95);
        Assert.True(length > 100);
        Assert.Equal([0xFF, 0xD8], buffer[..2]);
        Assert.Equal([0xFF, 0xD9], buffer[(length - 2)..length]);
        var decoded = new Frame(1, 1);
        ImageIo.DecodeInto(buffer.AsSpan(0, length), decoded);
        Assert.All(decoded.Pixels.Select((v, i) => Math.Abs(v - frame.Pixels[i])), d => Assert.True(d <= 3));

        var tooSmall = Assert.Throws<ArgumentException>(() => ImageIo.EncodeJpeg(frame, new byte[10], quality: 95));
        Assert.Contains($"needs {length} bytes", tooSmall.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageIo.EncodeJpeg(frame, buffer, quality: 0));
    }

    [Fact]
    public void Encoding_into_a_caller_buffer_allocates_nothing_after_warm_up()
    {
        var frame = TestImages.Random(160, 120, 5);
        var buffer = new byte[1 << 20];
        ImageIo.EncodeJpeg(frame, buffer);
        ImageIo.EncodePng(frame, buffer);
        var total = 0;
        var allocated = Allocations.Of(() => total += ImageIo.EncodeJpeg(frame, buffer) + ImageIo.EncodePng(frame, buffer), times: 5);
        Assert.True(total > 0);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Jpeg_into_a_pooled_buffer_grows_it_as_needed()
    {
        var frame = TestImages.Random(128, 128, 3); // noise: JPEG larger than the 16-byte start
        var pool = ArrayPool<byte>.Shared;
        var buffer = pool.Rent(16);
        try
        {
            var length = ImageIo.EncodeJpeg(frame, ref buffer, pool, quality: 80);
            Assert.True(buffer.Length >= length && length > 16);
            Assert.Equal([0xFF, 0xD8], buffer[..2]);
        }
        finally
        {
            pool.Return(buffer);
        }
    }

    [Fact]
    public void Gray_is_replicated_to_bgr()
    {
        var path = Write("gray.png", TestImages.Png(3, 2, 8, 0, [0, 50, 100, 150, 200, 255]));
        var frame = ImageIo.Load(path, out var info);
        Assert.Equal(new ImageInfo(3, 2, 1, 8), info);
        Assert.Contains("gray replicated", info.Conversion);
        Assert.Equal(new byte[] { 0, 0, 0, 50, 50, 50, 100, 100, 100, 150, 150, 150, 200, 200, 200, 255, 255, 255 }, frame.Pixels);
    }

    [Fact]
    public void Rgba_drops_alpha_without_compositing()
    {
        // One opaque red pixel and one fully transparent green one: the colour is kept as is.
        var path = Write("rgba.png", TestImages.Png(2, 1, 8, 6, [255, 0, 0, 255, 0, 255, 0, 0]));
        var frame = ImageIo.Load(path, out var info);
        Assert.Equal(4, info.SourceChannels);
        Assert.Contains("alpha dropped", info.Conversion);
        Assert.Equal(new byte[] { 0, 0, 255, 0, 255, 0 }, frame.Pixels);
    }

    [Fact]
    public void Sixteen_bit_is_scaled_to_eight_bit_by_257()
    {
        // 16-bit RGB samples (big-endian): 65535 -> 255, 257 -> 1, 32896 -> 128, 0 -> 0, 514 -> 2, 65278 -> 254.
        ushort[] values = [65535, 257, 32896, 0, 514, 65278];
        var samples = values.SelectMany(v => new[] { (byte)(v >> 8), (byte)v }).ToArray();
        var path = Write("deep.png", TestImages.Png(2, 1, 16, 2, samples));
        var frame = ImageIo.Load(path, out var info);
        Assert.Equal(16, info.SourceBitDepth);
        Assert.Contains("16-bit scaled", info.Conversion);
        // PNG is RGB, the frame BGR.
        Assert.Equal(new byte[] { 128, 1, 255, 254, 2, 0 }, frame.Pixels);
    }

    [Fact]
    public void Zero_byte_file_is_a_clear_error()
    {
        var path = Write("empty.png", []);
        var e = Assert.Throws<ImageLoadException>(() => ImageIo.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("empty (0 bytes)", e.Message);
    }

    [Fact]
    public void Truncated_png_is_a_clear_error()
    {
        var good = _dir.File("good.png");
        ImageIo.SavePng(good, TestImages.Random(200, 150, 1));
        var bytes = File.ReadAllBytes(good);
        var path = Write("cut.png", bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<ImageLoadException>(() => ImageIo.Load(path));
        Assert.Contains("PNG data is truncated or corrupt", e.Message);
    }

    [Fact]
    public void Truncated_jpeg_is_a_clear_error()
    {
        var frame = TestImages.Random(200, 150, 2);
        var buffer = new byte[1 << 20];
        var length = ImageIo.EncodeJpeg(frame, buffer);
        var path = Write("cut.jpg", buffer[..(length * 2 / 3)]);
        Assert.Contains("truncated JPEG", Assert.Throws<ImageLoadException>(() => ImageIo.Load(path)).Message);
    }

    [Fact]
    public void A_non_image_file_is_a_clear_error()
    {
        var path = Write("notes.png", "just some text, not a picture"u8.ToArray());
        Assert.Contains("not an image OpenCV can decode", Assert.Throws<ImageLoadException>(() => ImageIo.Load(path)).Message);
    }

    [Fact]
    public void A_missing_file_is_a_clear_error()
    {
        var path = _dir.File("absent.png");
        var e = Assert.Throws<ImageLoadException>(() => ImageIo.Load(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Float_images_are_an_unsupported_bit_depth()
    {
        var path = Write("float.pfm", TestImages.Pfm(4, 3, 0.5f));
        var e = Assert.Throws<ImageLoadException>(() => ImageIo.Load(path));
        Assert.Contains("unsupported bit depth: 32-bit float", e.Message);
    }

    [Fact]
    public void Gray_with_alpha_becomes_gray_bgr_without_its_alpha()
    {
        var path = Write("graya.png", TestImages.Png(2, 1, 8, 4, [10, 255, 200, 0]));
        var frame = ImageIo.Load(path, out var info);
        Assert.Contains("alpha dropped", info.Conversion);
        Assert.Equal(new byte[] { 10, 10, 10, 200, 200, 200 }, frame.Pixels);
    }

    [Fact]
    public void A_huge_image_is_refused_from_its_header_before_decoding()
    {
        // A 100000 x 100000 PNG header (10 GP) whose pixel data is absent: refused on the declared size alone.
        var header = TestImages.Png(1, 1, 8, 2, [0, 0, 0]);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(16), 100_000);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(20), 100_000);
        var path = Write("huge.png", header);
        var e = Assert.Throws<ImageLoadException>(() => ImageIo.Load(path));
        Assert.Contains("100000x100000", e.Message);
        Assert.Contains("over the limit of 50000000 pixels", e.Message);
    }

    [Fact]
    public void The_pixel_limit_is_configurable_and_applies_to_every_format()
    {
        var path = _dir.File("small.png");
        ImageIo.SavePng(path, TestImages.Random(100, 100, 3));
        var options = new ImageLoadOptions { MaxPixels = 9_999 };
        Assert.Contains("over the limit of 9999 pixels", Assert.Throws<ImageLoadException>(() => ImageIo.Load(path, options)).Message);
        // PNM has no header check of ours: the check after decoding refuses it.
        var pnm = Write("small.ppm", [.. "P6\n100 100\n255\n"u8.ToArray(), .. new byte[100 * 100 * 3]]);
        Assert.Contains("over the limit of 9999 pixels", Assert.Throws<ImageLoadException>(() => ImageIo.Load(pnm, options)).Message);
        Assert.Equal(100, ImageIo.Load(pnm).Width);
        // A file larger than any image within the limit is refused before it is read.
        var big = Write("big.png", new byte[2 << 20]);
        Assert.Contains("more than any image within the limit of 9999 pixels", Assert.Throws<ImageLoadException>(() => ImageIo.Load(big, options)).Message);
    }
}
