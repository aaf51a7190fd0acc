using System.Reflection;
using System.Runtime.InteropServices;

namespace RobotCtl.Vision.Interop;

/// <summary>
/// The P/Invoke surface of the OpenCV shim (native/rcv.h). Nothing outside RobotCtl.Vision sees it: every native
/// object is owned by a SafeHandle and every failure becomes a typed exception carrying the shim's message.
/// </summary>
internal static unsafe partial class NativeMethods
{
    private const string Library = "robotctl_vision";
    internal const string LibraryFile = "librobotctl_vision.so";

    // Status codes of rcv.h that the managed side tells apart; every other negative code carries its message.
    internal const int Ok = 0;
    internal const int ErrDecode = -4;
    internal const int ErrTooSmall = -5;

    static NativeMethods() => NativeLibrary.SetDllImportResolver(typeof(NativeMethods).Assembly, Resolve);

    // Load the shim from next to this assembly, and say what to do when it is missing or cannot find OpenCV.
    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Library) return IntPtr.Zero;
        var path = Path.Combine(Path.GetDirectoryName(assembly.Location) ?? AppContext.BaseDirectory, LibraryFile);
        try
        {
            return NativeLibrary.Load(path);
        }
        catch (DllNotFoundException e)
        {
            throw new VisionException(
                $"cannot load the OpenCV shim '{path}': {e.Message}. It is compiled by RobotCtl.Vision's build; " +
                "run scripts/setup (Debian's OpenCV 4.6 libraries and g++) and rebuild.", e);
        }
    }

    /// <summary>The last failure's message on this thread.</summary>
    internal static string LastError() => Marshal.PtrToStringUTF8(rcv_last_error()) ?? "";

    [LibraryImport(Library)] internal static partial IntPtr rcv_last_error();

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rcv_capture_open(string? source, int index, int api, int width, int height, double fps,
        string? fourcc, int openTimeoutMs, int readTimeoutMs, out CaptureHandle capture);
    [LibraryImport(Library)] internal static partial int rcv_capture_read(CaptureHandle capture, out int got, out int width, out int height);
    [LibraryImport(Library)] internal static partial int rcv_capture_copy(CaptureHandle capture, byte* destination, long capacity);
    [LibraryImport(Library)] internal static partial double rcv_capture_get(CaptureHandle capture, int property);
    [LibraryImport(Library)] internal static partial int rcv_capture_backend(CaptureHandle capture, byte* buffer, int capacity);
    [LibraryImport(Library)] internal static partial void rcv_capture_release(IntPtr capture);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rcv_writer_open(string path, string fourcc, double fps, int width, int height, out WriterHandle writer);
    [LibraryImport(Library)] internal static partial int rcv_writer_write(WriterHandle writer, byte* bgr, int width, int height);
    [LibraryImport(Library)] internal static partial void rcv_writer_release(IntPtr writer);

    [LibraryImport(Library)]
    internal static partial int rcv_image_decode(byte* data, long length, long maxPixels, out ImageHandle image,
        out int width, out int height, out int sourceChannels, out int sourceBits);
    [LibraryImport(Library)] internal static partial int rcv_image_copy(ImageHandle image, byte* destination, long capacity);
    [LibraryImport(Library)] internal static partial void rcv_image_release(IntPtr image);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rcv_image_encode(byte* bgr, int width, int height, string extension, int param,
        byte* destination, long capacity, out long written);

    [LibraryImport(Library)] internal static partial int rcv_pre_create(int outWidth, int outHeight, float* mul3, float* add3, out PreprocessorHandle pre);
    [LibraryImport(Library)] internal static partial int rcv_pre_set_undistort(PreprocessorHandle pre, int width, int height, double* k9, double* dist5);
    [LibraryImport(Library)]
    internal static partial int rcv_pre_run(PreprocessorHandle pre, byte* bgr, int width, int height,
        int cropX, int cropY, int cropWidth, int cropHeight, float* destination, long destinationLength);
    [LibraryImport(Library)] internal static partial void rcv_pre_release(IntPtr pre);
    [LibraryImport(Library)] internal static partial int rcv_resize_area(byte* bgr, int width, int height, byte* destination, int outWidth, int outHeight);

    [LibraryImport(Library)]
    internal static partial int rcv_find_chessboard(byte* bgr, int width, int height, int cols, int rows, float* corners, out int found);
    [LibraryImport(Library)]
    internal static partial int rcv_calibrate(float* objectPoints, float* imagePoints, int pointsPerView, int views,
        int width, int height, double* k9, double* dist5, out double rms, double* perViewRms);
    [LibraryImport(Library)]
    internal static partial int rcv_project_points(double* objectPoints, int n, double* rvec3, double* tvec3, double* k9, double* dist5, double* output);
}

internal sealed class CaptureHandle : Microsoft.Win32.SafeHandles.SafeHandleZeroOrMinusOneIsInvalid
{
    public CaptureHandle() : base(ownsHandle: true) { }
    protected override bool ReleaseHandle() { NativeMethods.rcv_capture_release(handle); return true; }
}

internal sealed class WriterHandle : Microsoft.Win32.SafeHandles.SafeHandleZeroOrMinusOneIsInvalid
{
    public WriterHandle() : base(ownsHandle: true) { }
    protected override bool ReleaseHandle() { NativeMethods.rcv_writer_release(handle); return true; }
}

internal sealed class ImageHandle : Microsoft.Win32.SafeHandles.SafeHandleZeroOrMinusOneIsInvalid
{
    public ImageHandle() : base(ownsHandle: true) { }
    protected override bool ReleaseHandle() { NativeMethods.rcv_image_release(handle); return true; }
}

internal sealed class PreprocessorHandle : Microsoft.Win32.SafeHandles.SafeHandleZeroOrMinusOneIsInvalid
{
    public PreprocessorHandle() : base(ownsHandle: true) { }
    protected override bool ReleaseHandle() { NativeMethods.rcv_pre_release(handle); return true; }
}
