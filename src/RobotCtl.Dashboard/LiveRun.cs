using System.Buffers;
using RobotCtl.Core.Vision;
using RobotCtl.Runtime;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Dashboard;

/// <summary>
/// The running loop a live dashboard watches: its parts (governor, e-stop, arm link, goals, recorder) and the
/// per-cycle <see cref="LiveSnapshot"/>. Images are encoded here, on HTTP threads, at most once per new cycle
/// however many clients ask.
/// </summary>
public sealed class LiveRun : IDisposable
{
    private readonly Lock _imageGate = new();
    private readonly Frame _scratch;
    private readonly byte[]?[] _goalPngs;
    private byte[]? _cameraJpeg;
    private long _cameraVersion = -1;

    /// <param name="session">An opened session: the dashboard's feed is its loop and parts.</param>
    public LiveRun(ControlSession session)
    {
        var components = session.Components;
        var loop = session.Loop;
        Components = components;
        Loop = loop;
        Snapshot = new LiveSnapshot(loop);
        _scratch = new Frame(loop.LastFrame.Width, loop.LastFrame.Height);
        _goalPngs = new byte[components.Goals.Count][];
    }

    public RuntimeComponents Components { get; }
    public ControlLoop Loop { get; }
    public LiveSnapshot Snapshot { get; }

    /// <summary>The latest camera frame as JPEG and the cycle it is from; null before the first cycle.</summary>
    public (byte[] Jpeg, long Version)? CameraJpeg()
    {
        lock (_imageGate)
        {
            var version = Snapshot.Version;
            if (_cameraJpeg is not null && version == _cameraVersion) return (_cameraJpeg, _cameraVersion);
            if (!Snapshot.CopyFrame(_scratch, out version)) return null;
            var pool = ArrayPool<byte>.Shared;
            var buffer = pool.Rent(_scratch.Pixels.Length / 4 + 4096);
            try
            {
                var length = ImageIo.EncodeJpeg(_scratch, ref buffer, pool, quality: 85);
                _cameraJpeg = buffer.AsSpan(0, length).ToArray();
                _cameraVersion = version;
                return (_cameraJpeg, version);
            }
            finally
            {
                pool.Return(buffer);
            }
        }
    }

    /// <summary>Goal <paramref name="index"/> of the chain as PNG (goal images never change during a run).</summary>
    public byte[]? GoalPng(int index)
    {
        if (index < 0 || index >= _goalPngs.Length) return null;
        lock (_imageGate)
        {
            if (_goalPngs[index] is { } cached) return cached;
            var frame = Components.Goals.Images[index];
            // A PNG of 8-bit pixels is never much larger than the pixels themselves (zlib's stored blocks + filters).
            var buffer = new byte[frame.Pixels.Length + frame.Height + 4096];
            var length = ImageIo.EncodePng(frame, buffer);
            return _goalPngs[index] = buffer.AsSpan(0, length).ToArray();
        }
    }

    public void Dispose() => Snapshot.Dispose();
}
