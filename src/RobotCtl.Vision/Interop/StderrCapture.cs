using System.Runtime.InteropServices;
using System.Text;

namespace RobotCtl.Vision.Interop;

/// <summary>
/// fd 2 redirected to an in-memory file until <see cref="Finish"/> (or Dispose) restores it: what native code writes
/// to stderr meanwhile (OpenCV, FFmpeg) is returned instead of printed. Captures nest (each restores what it replaced).
/// </summary>
internal sealed partial class StderrCapture : IDisposable
{
    private int _memory = -1, _saved = -1;

    public StderrCapture()
    {
        fflush(IntPtr.Zero);
        _memory = memfd_create("robotctl-opencv-log", 1 /* MFD_CLOEXEC */);
        if (_memory < 0) return;
        _saved = dup(2);
        if (_saved >= 0 && dup2(_memory, 2) < 0)
        {
            close(_saved);
            _saved = -1;
        }
    }

    public unsafe string Finish()
    {
        var text = "";
        if (_saved >= 0)
        {
            fflush(IntPtr.Zero);
            dup2(_saved, 2);
            close(_saved);
            _saved = -1;
            var buffer = new byte[65536];
            long read = 0, n;
            fixed (byte* p = buffer)
                while (read < buffer.Length && (n = pread(_memory, p + read, (nint)(buffer.Length - read), read)) > 0) read += n;
            text = Encoding.UTF8.GetString(buffer, 0, (int)read);
        }
        if (_memory >= 0) close(_memory);
        _memory = -1;
        return text;
    }

    public void Dispose() => Finish();

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)] private static partial int memfd_create(string name, uint flags);
    [LibraryImport("libc")] private static partial int dup(int fd);
    [LibraryImport("libc")] private static partial int dup2(int from, int to);
    [LibraryImport("libc")] private static partial int close(int fd);
    [LibraryImport("libc")] private static partial int fflush(IntPtr stream);
    [LibraryImport("libc")] private static unsafe partial nint pread(int fd, byte* buffer, nint count, long offset);
}
