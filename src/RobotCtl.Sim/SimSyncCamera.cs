using RobotCtl.Core.Timing;
using RobotCtl.Core.Vision;

namespace RobotCtl.Sim;

/// <summary>
/// A camera on the simulated workcell with no capture thread: <see cref="ReadLatest"/> renders the workcell as it is
/// at that moment (only when it changed since the last render) and stamps it now with the next sequence number.
/// So a frame always shows exactly the commands applied before the read, which makes closed loops on the sim
/// reproducible (eval); <see cref="SimCamera"/> renders on its own clock, as a real camera would.
/// Rendering happens on the reading thread and allocates nothing after the first frame.
/// </summary>
public sealed class SimSyncCamera : ICamera
{
    private readonly SimWorkcell _workcell;
    private readonly SimRenderer _renderer;
    private readonly Lock _gate = new();
    private readonly Frame _latest;
    private long _sequence, _renderedVersion = -1, _framesCaptured;
    private bool _started, _disposed;

    public SimSyncCamera(SimWorkcell workcell, SimRenderOptions options)
    {
        ArgumentNullException.ThrowIfNull(workcell);
        ArgumentNullException.ThrowIfNull(options);
        _workcell = workcell;
        _renderer = new SimRenderer(options);
        _latest = new Frame(options.Width, options.Height);
    }

    public string Description =>
        $"sim:{(_renderer.Options.Projection == SimProjection.TopDown ? "topdown" : "oblique")} {_renderer.Options.Width}x{_renderer.Options.Height} (rendered on read)";

    public SimRenderOptions Options => _renderer.Options;

    public long FramesCaptured => Interlocked.Read(ref _framesCaptured);

    /// <summary>Renders the first frame, so a broken scene or view fails here rather than on the first read.</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_disposed) throw new CameraException($"{Description}: the camera is disposed");
            try
            {
                RenderIfChanged();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                throw new CameraException($"{Description}: rendering the first frame failed: {e.Message}", e);
            }
            _started = true;
        }
    }

    public void Stop()
    {
        lock (_gate) _started = false;
    }

    /// <summary>A fresh render of the current state (the age limit cannot be exceeded: the frame is stamped now).</summary>
    public FrameReadStatus ReadLatest(TimeSpan maxAge, Frame destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        lock (_gate)
        {
            if (_disposed) return FrameReadStatus.Failed;
            if (!_started) return FrameReadStatus.NoFrame;
            // Stamped when the world is looked at (before the render): a command applied meanwhile is not in the image.
            var observed = MonotonicClock.Now;
            RenderIfChanged();
            _latest.CaptureTicks = observed;
            _latest.Sequence = ++_sequence;
            Interlocked.Increment(ref _framesCaptured);
            _latest.CopyTo(destination);
            return FrameReadStatus.Ok;
        }
    }

    public void Dispose()
    {
        lock (_gate) _disposed = true;
    }

    private void RenderIfChanged()
    {
        _workcell.Read(out var scene, out var state, out var version);
        if (version == _renderedVersion) return;
        _renderer.Render(scene, state, _latest);
        _renderedVersion = version;
    }
}
