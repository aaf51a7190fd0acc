using System.Buffers;
using RobotCtl.Core.Vision;
using RobotCtl.Vision.Interop;

namespace RobotCtl.Vision.Imaging;

/// <summary>Limits for loading images.</summary>
public sealed record ImageLoadOptions
{
    /// <summary>Largest image accepted, in pixels (default 50 MP). Checked from the header before decoding where possible.</summary>
    public long MaxPixels { get; init; } = 50_000_000;

    public static ImageLoadOptions Default { get; } = new();
}

/// <summary>What a loaded image was before it became an 8-bit BGR frame.</summary>
public sealed record ImageInfo(int Width, int Height, int SourceChannels, int SourceBitDepth)
{
    /// <summary>The conversion applied, in words (for logs and sidecars).</summary>
    public string Conversion => (SourceChannels, SourceBitDepth) switch
    {
        (3, 8) => "none",
        _ => string.Join(", ", new[]
        {
            SourceBitDepth == 16 ? "16-bit scaled to 8-bit (value / 257)" : null,
            SourceChannels == 1 ? "gray replicated to BGR" : SourceChannels == 4 ? "alpha dropped (not composited)" : null,
        }.Where(s => s is not null)),
    };
}

/// <summary>
/// Goal images and snapshots: load (PNG, JPEG, BMP, TIFF, WebP, PNM... as OpenCV decodes them) into 8-bit BGR
/// frames, save losslessly as PNG, encode JPEG for logs. Conversions on load are deliberate: gray is replicated to
/// B=G=R; BGRA drops its alpha channel (no compositing against a background: goal images are photos of the scene,
/// any transparency is an artefact of the editor that saved them); 16-bit is scaled to 8-bit as value / 257
/// (full range, 65535 -> 255, no auto-contrast). Anything else (float images, 2-channel images) is refused.
/// </summary>
public static unsafe class ImageIo
{
    /// <summary>File extensions treated as images when a directory is scanned (camera sources, calibration).</summary>
    public static IReadOnlyList<string> FileExtensions { get; } =
        [".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pnm"];

    /// <summary>The image files in a directory (by <see cref="FileExtensions"/>), in ordinal name order.</summary>
    public static string[] ListImages(string directory) =>
        Directory.EnumerateFiles(directory)
            .Where(f => FileExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal).ToArray();

    /// <summary>Loads an image file into a new frame. Throws <see cref="ImageLoadException"/> naming the file and the reason.</summary>
    public static Frame Load(string path, ImageLoadOptions? options = null) => Load(path, out _, options);

    public static Frame Load(string path, out ImageInfo info, ImageLoadOptions? options = null)
    {
        options ??= ImageLoadOptions.Default;
        byte[] data;
        try
        {
            // No format stores more than 8 bytes a pixel (16-bit RGBA) plus metadata: a bigger file cannot be an image
            // within the pixel limit, so it is refused before being read into memory.
            var length = new FileInfo(path).Length;
            if (length > options.MaxPixels * 8 + (1 << 20))
                throw new ImageLoadException(path, $"the file is {length} bytes, more than any image within the limit of {options.MaxPixels} pixels");
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ImageLoadException(path, e.Message, e);
        }
        // A 1x1 placeholder: DecodeInto sizes the frame once the decoded size is known.
        var frame = new Frame(1, 1);
        info = DecodeInto(data, frame, path, options);
        return frame;
    }

    /// <summary>
    /// Decodes an encoded image into <paramref name="frame"/> (resized if it is not the image's size; capture time and
    /// sequence are left alone). <paramref name="sourceName"/> names the data in errors.
    /// </summary>
    public static ImageInfo DecodeInto(ReadOnlySpan<byte> data, Frame frame, string sourceName = "<buffer>", ImageLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(frame);
        options ??= ImageLoadOptions.Default;
        if (data.IsEmpty) throw new ImageLoadException(sourceName, "the file is empty (0 bytes)");
        var format = ImageHeader.Sniff(data);
        if (ImageHeader.TryReadSize(data) is var (w, h))
        {
            if (w == 0 || h == 0) throw new ImageLoadException(sourceName, $"the header declares an empty image ({w}x{h})");
            if (w * h > options.MaxPixels)
                throw new ImageLoadException(sourceName, $"image is {w}x{h} = {w * h} pixels, over the limit of {options.MaxPixels} pixels");
        }
        if (format == ImageHeader.Format.Jpeg && ImageHeader.IsTruncatedJpeg(data))
            throw new ImageLoadException(sourceName, "truncated JPEG (no end-of-image marker after the scan data)");

        ImageHandle image;
        int width, height, channels, bits, rc;
        fixed (byte* p = data)
            rc = NativeMethods.rcv_image_decode(p, data.Length, options.MaxPixels, out image, out width, out height, out channels, out bits);
        using (image)
        {
            if (rc != NativeMethods.Ok)
            {
                var message = NativeMethods.LastError();
                throw new ImageLoadException(sourceName, rc switch
                {
                    NativeMethods.ErrDecode => format == ImageHeader.Format.Unknown
                        ? "not an image OpenCV can decode (unknown format or corrupt data)"
                        : $"{format.ToString().ToUpperInvariant()} data is truncated or corrupt",
                    _ => message,
                });
            }
            frame.EnsureSize(width, height);
            fixed (byte* dst = frame.Pixels)
                Check(NativeMethods.rcv_image_copy(image, dst, frame.Pixels.Length), sourceName);
        }
        return new ImageInfo(width, height, channels, bits);
    }

    /// <summary>
    /// Saves a frame losslessly as PNG, atomically (written next to the target, then renamed), or straight into the
    /// target when it is a device or pipe.
    /// </summary>
    public static void SavePng(string path, Frame frame, int compression = 3)
    {
        ArgumentNullException.ThrowIfNull(frame);
        CheckCompression(compression);
        var pool = ArrayPool<byte>.Shared;
        var buffer = pool.Rent(frame.Pixels.Length + frame.Height + 1024);
        try
        {
            var length = Encode(frame, ".png", compression, ref buffer, pool);
            if (IsSpecialFile(path))
            {
                // A device or pipe (/dev/stdout, a FIFO): renaming over it would replace the device with a file.
                using var special = new FileStream(path, FileMode.Open, FileAccess.Write);
                special.Write(buffer, 0, length);
                return;
            }
            var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
            Directory.CreateDirectory(directory);
            var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
            try
            {
                using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
                {
                    stream.Write(buffer, 0, length);
                    stream.Flush(flushToDisk: true);
                }
                File.Move(temporary, path, overwrite: true);
            }
            finally
            {
                File.Delete(temporary);
            }
        }
        finally
        {
            pool.Return(buffer);
        }
    }

    /// <summary>
    /// Encodes a frame as PNG (lossless) into <paramref name="destination"/> and returns the length. Throws
    /// <see cref="ArgumentException"/> stating the size needed when the destination is too small.
    /// </summary>
    public static int EncodePng(Frame frame, Span<byte> destination, int compression = 1)
    {
        ArgumentNullException.ThrowIfNull(frame);
        CheckCompression(compression);
        return EncodeInto(frame, ".png", compression, destination);
    }

    /// <summary>
    /// Encodes a frame as JPEG into <paramref name="destination"/> and returns the length. Throws
    /// <see cref="ArgumentException"/> stating the size needed when the destination is too small.
    /// </summary>
    public static int EncodeJpeg(Frame frame, Span<byte> destination, int quality = 90)
    {
        ArgumentNullException.ThrowIfNull(frame);
        CheckQuality(quality);
        return EncodeInto(frame, ".jpg", quality, destination);
    }

    private static int EncodeInto(Frame frame, string extension, int param, Span<byte> destination)
    {
        long written;
        int rc;
        fixed (byte* src = frame.Pixels)
        fixed (byte* dst = destination)
            rc = NativeMethods.rcv_image_encode(src, frame.Width, frame.Height, extension, param, dst, destination.Length, out written);
        if (rc == NativeMethods.ErrTooSmall)
            throw new ArgumentException($"{FormatName(extension)} needs {written} bytes, the destination holds {destination.Length}", nameof(destination));
        if (rc != NativeMethods.Ok) Check(rc, $"{FormatName(extension)} encoder");
        return (int)written;
    }

    /// <summary>
    /// Encodes a frame as JPEG into an array rented from <paramref name="pool"/> (grown as needed); returns the
    /// length. The caller returns <paramref name="buffer"/> to the pool.
    /// </summary>
    public static int EncodeJpeg(Frame frame, ref byte[] buffer, ArrayPool<byte> pool, int quality = 90)
    {
        ArgumentNullException.ThrowIfNull(frame);
        CheckQuality(quality);
        return Encode(frame, ".jpg", quality, ref buffer, pool);
    }

    private static int Encode(Frame frame, string extension, int param, ref byte[] buffer, ArrayPool<byte> pool)
    {
        while (true)
        {
            long written;
            int rc;
            fixed (byte* src = frame.Pixels)
            fixed (byte* dst = buffer)
                rc = NativeMethods.rcv_image_encode(src, frame.Width, frame.Height, extension, param, dst, buffer.Length, out written);
            if (rc == NativeMethods.ErrTooSmall)
            {
                pool.Return(buffer);
                buffer = pool.Rent((int)written);
                continue;
            }
            Check(rc, $"{extension} encoder");
            return (int)written;
        }
    }

    private static string FormatName(string extension) => extension.TrimStart('.').ToUpperInvariant();

    private static void CheckCompression(int compression)
    {
        if (compression is < 0 or > 9) throw new ArgumentOutOfRangeException(nameof(compression), $"PNG compression must be 0..9, found {compression}");
    }

    private static void CheckQuality(int quality)
    {
        if (quality is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(quality), $"JPEG quality must be 1..100, found {quality}");
    }

    private static void Check(int rc, string what)
    {
        if (rc != NativeMethods.Ok) throw new VisionException($"{what}: {NativeMethods.LastError()}");
    }

    /// <summary>An existing target under /dev (a device, /dev/stdout): .NET does not expose the file type, the path tells.</summary>
    private static bool IsSpecialFile(string path)
    {
        if (!File.Exists(path)) return false;
        var info = new FileInfo(path);
        var resolved = info.LinkTarget is null ? info.FullName : info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? info.FullName;
        return resolved.StartsWith("/dev/", StringComparison.Ordinal);
    }
}
