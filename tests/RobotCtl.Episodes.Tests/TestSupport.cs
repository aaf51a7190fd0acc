using System.Diagnostics;
using System.IO.Compression;
using System.Buffers.Binary;
using System.IO.Hashing;
using RobotCtl.Core.Vision;

namespace RobotCtl.Episodes.Tests;

internal static class Repo
{
    public static string Root { get; } = FindRoot();

    /// <summary>Debian's Python with h5py: the independent reader of exported HDF5 files (scripts/setup installs python3-h5py).</summary>
    public const string Python = "/usr/bin/python3";

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "robotctl.sln"))) return dir.FullName;
        throw new InvalidOperationException($"robotctl.sln not found above {AppContext.BaseDirectory}");
    }

    /// <summary>A sibling test project's output, built with the same configuration as this test assembly.</summary>
    public static string SiblingOutput(string project, string fileName)
    {
        var self = System.IO.Path.Combine(Root, "tests", "RobotCtl.Episodes.Tests");
        var relative = System.IO.Path.GetRelativePath(self, AppContext.BaseDirectory); // bin/<Configuration>/net10.0
        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine(Root, "tests", project, relative, fileName));
        if (!File.Exists(path)) throw new InvalidOperationException($"{path} not found: build tests/{project} (the test project references it)");
        return path;
    }

    /// <summary>Runs a process to completion and returns (exit code, stdout, stderr).</summary>
    public static (int Code, string Out, string Err) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(60_000)) { p.Kill(true); throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in 60 s"); }
        return (p.ExitCode, output, err.Result);
    }
}

/// <summary>
/// A real (if unoptimised) PNG encoder for tests: stored BGR frames become RGB PNG files that Pillow, browsers and
/// Foxglove decode, so the compressed-image paths of the exporters are exercised with real data.
/// </summary>
internal sealed class PngFrameEncoder : IFrameEncoder
{
    public string Format => "png";

    public int Encode(Frame frame, Span<byte> destination)
    {
        var png = EncodePng(frame);
        if (png.Length > destination.Length) return -1;
        png.CopyTo(destination);
        return png.Length;
    }

    public static byte[] EncodePng(Frame frame)
    {
        var raw = new byte[frame.Height * (1 + frame.Width * 3)];
        for (var y = 0; y < frame.Height; y++)
        {
            var row = y * (1 + frame.Width * 3); // filter byte 0 (none), then RGB
            for (var x = 0; x < frame.Width; x++)
            {
                var src = y * frame.Stride + x * 3;
                raw[row + 1 + x * 3] = frame.Pixels[src + 2];
                raw[row + 2 + x * 3] = frame.Pixels[src + 1];
                raw[row + 3 + x * 3] = frame.Pixels[src];
            }
        }
        using var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.Fastest, leaveOpen: true)) z.Write(raw);
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, frame.Width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), frame.Height);
        ihdr[8] = 8; ihdr[9] = 2; // 8-bit truecolour
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", idat.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> u32 = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(u32, data.Length);
        s.Write(u32);
        var typed = new byte[4 + data.Length];
        System.Text.Encoding.ASCII.GetBytes(type, typed);
        data.CopyTo(typed, 4);
        s.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(u32, Crc32.HashToUInt32(typed));
        s.Write(u32);
    }
}

/// <summary>Blocks the writer task inside Encode until released: a deterministic "recorder cannot keep up".</summary>
internal sealed class GateEncoder : IFrameEncoder
{
    public readonly ManualResetEventSlim Entered = new(), Release = new();

    public string Format => RawBgrFrameEncoder.FormatName;

    public int Encode(Frame frame, Span<byte> destination)
    {
        Entered.Set();
        Release.Wait(TimeSpan.FromSeconds(30));
        return new RawBgrFrameEncoder().Encode(frame, destination);
    }
}

/// <summary>
/// Decodes what <see cref="PngFrameEncoder"/> writes (one IDAT, filter 0, RGB), standing in for the host's OpenCV decoder
/// in the exporter's unit tests; the real decoder is exercised end to end by the host's export tests.
/// <paramref name="failAt"/> makes the n-th call (0-based) fail like corrupt data.
/// </summary>
internal sealed class TestPngDecoder(int failAt = -1) : IFrameDecoder
{
    private int _calls;

    public void Decode(string format, ReadOnlySpan<byte> data, Frame destination)
    {
        if (_calls++ == failAt) throw new InvalidDataException("corrupt test data");
        var width = BinaryPrimitives.ReadInt32BigEndian(data[16..]);
        var height = BinaryPrimitives.ReadInt32BigEndian(data[20..]);
        var idatLength = BinaryPrimitives.ReadInt32BigEndian(data[33..]);
        using var z = new ZLibStream(new MemoryStream(data.Slice(41, idatLength).ToArray()), CompressionMode.Decompress);
        var raw = new byte[height * (1 + width * 3)];
        z.ReadExactly(raw);
        destination.EnsureSize(width, height);
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                for (var c = 0; c < 3; c++)
                    destination.Pixels[y * destination.Stride + x * 3 + c] = raw[y * (1 + width * 3) + 1 + x * 3 + (2 - c)];
    }
}
