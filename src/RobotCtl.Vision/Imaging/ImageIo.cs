using System.Buffers;
using RobotCtl.Core.Vision;
using OpenCvSharp;
using RobotCtl.Vision.Interop;

namespace RobotCtl.Vision.Imaging;

/// <summary>
/// Goal images and snapshots: load (PNG, JPEG, BMP, TIFF, WebP, PNM... as OpenCV decodes them) into 8-bit BGR
/// frames, save losslessly as PNG, encode JPEG for logs. Conversions on load are deliberate: gray is replicated to
/// B=G=R; BGRA drops its alpha channel (no compositing against a background: goal images are photos of the scene,
/// any transparency is an artefact of the editor that saved them); 16-bit is scaled to 8-bit as value / 257
/// (full range, 65535 -> 255, no auto-contrast). Anything else (float images, 2-channel images) is refused.
/// </summary>
public static class ImageIo
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

        OpenCvRuntime.EnsureLoaded();
        using var decoded = Cv2.ImDecode(data, ImreadModes.Unchanged);
        if (decoded.Empty())
            throw new ImageLoadException(sourceName, format == ImageHeader.Format.Unknown
                ? "not an image OpenCV can decode (unknown format or corrupt data)"
                : $"{format.ToString().ToUpperInvariant()} data is truncated or corrupt");
        int width = decoded.Cols, height = decoded.Rows, channels = decoded.Channels(), bits = Bgr8.DepthBits(decoded.Depth());
        // Formats without a header check of ours (PNM, TIFF, WebP...) are checked once decoded.
        if ((long)width * height > options.MaxPixels)
            throw new ImageLoadException(sourceName, $"image is {width}x{height}, over the limit of {options.MaxPixels} pixels");
        using var converter = new Bgr8();
        using var decodedIn = InputArray.Create(decoded);
        var bgr = converter.Convert(decoded, decodedIn, out var error) ?? throw new ImageLoadException(sourceName, error!);
        Bgr8.CopyTo(bgr, frame);
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
        using var encoded = EncodeToVector(frame, extension, param);
        if (encoded.Size > destination.Length)
            throw new ArgumentException($"{FormatName(extension)} needs {encoded.Size} bytes, the destination holds {destination.Length}", nameof(destination));
        encoded.AsSpan().CopyTo(destination);
        return encoded.Size;
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
        using var encoded = EncodeToVector(frame, extension, param);
        if (encoded.Size > buffer.Length)
        {
            pool.Return(buffer);
            buffer = pool.Rent(encoded.Size);
        }
        encoded.AsSpan().CopyTo(buffer);
        return encoded.Size;
    }

    /// <summary>
    /// cv::imencode into a native std::vector, whose bytes the caller copies once into its own memory. OpenCvSharp's
    /// Cv2.ImEncode returns a new managed array per image (for a 640x480 JPEG, one on the large-object heap), and its
    /// Mat and InputArray wrappers are managed objects too; here the Mat header, InputArray and vector are native
    /// objects made and deleted per call, so encoding allocates nothing managed.
    /// </summary>
    private static unsafe EncodedBytes EncodeToVector(Frame frame, string extension, int param)
    {
        OpenCvRuntime.EnsureLoaded();
        var parameters = _encodeParameters ??= new int[2];
        parameters[0] = extension == ".png" ? (int)ImwriteFlags.PngCompression : (int)ImwriteFlags.JpegQuality;
        parameters[1] = param;
        IntPtr mat = 0, input = 0, vector = OpenCvSharp.Internal.NativeMethods.vector_uchar_new1();
        try
        {
            int ok;
            fixed (byte* pixels = frame.Pixels)
            {
                OpenCvSharp.Internal.NativeMethods.HandleException(OpenCvSharp.Internal.NativeMethods.core_Mat_new8(
                    frame.Height, frame.Width, MatType.CV_8UC3, (IntPtr)pixels, (IntPtr)(frame.Width * 3L), out mat));
                OpenCvSharp.Internal.NativeMethods.HandleException(OpenCvSharp.Internal.NativeMethods.core_InputArray_new_byMat(mat, out input));
                OpenCvSharp.Internal.NativeMethods.HandleException(OpenCvSharp.Internal.NativeMethods.imgcodecs_imencode_vector(
                    extension, input, vector, parameters, param < 0 ? 0 : 2, out ok));
            }
            if (ok == 0) throw new VisionException($"{FormatName(extension)} encoder: OpenCV could not encode the {frame.Width}x{frame.Height} image");
            var encoded = new EncodedBytes(vector);
            vector = 0;
            return encoded;
        }
        finally
        {
            if (input != 0) OpenCvSharp.Internal.NativeMethods.core_InputArray_delete(input);
            if (mat != 0) OpenCvSharp.Internal.NativeMethods.core_Mat_delete(mat);
            if (vector != 0) OpenCvSharp.Internal.NativeMethods.vector_uchar_delete(vector);
        }
    }

    [ThreadStatic] private static int[]? _encodeParameters;

    /// <summary>A native std::vector&lt;uchar&gt; of encoded bytes, deleted on Dispose.</summary>
    private readonly struct EncodedBytes(IntPtr vector) : IDisposable
    {
        public int Size => checked((int)OpenCvSharp.Internal.NativeMethods.vector_uchar_getSize(vector));
        public unsafe ReadOnlySpan<byte> AsSpan() => new((void*)OpenCvSharp.Internal.NativeMethods.vector_uchar_getPointer(vector), Size);
        public void Dispose() => OpenCvSharp.Internal.NativeMethods.vector_uchar_delete(vector);
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

    /// <summary>An existing target under /dev (a device, /dev/stdout): .NET does not expose the file type, the path tells.</summary>
    private static bool IsSpecialFile(string path)
    {
        if (!File.Exists(path)) return false;
        var info = new FileInfo(path);
        var resolved = info.LinkTarget is null ? info.FullName : info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? info.FullName;
        return resolved.StartsWith("/dev/", StringComparison.Ordinal);
    }
}
