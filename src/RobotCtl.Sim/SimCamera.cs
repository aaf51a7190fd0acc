using RobotCtl.Core.Timing;
using RobotCtl.Core.Vision;

namespace RobotCtl.Sim;

/// <summary>
/// A camera on the simulated workcell. Its capture thread wakes at <see cref="Fps"/>; it re-renders only when the
/// workcell's <see cref="SimWorkcell.Version"/> has changed, and otherwise re-stamps the latest image, so every
/// tick publishes a frame with a fresh capture time and the next sequence number. A sim standing still is not a
/// frozen camera: <see cref="ReadLatest"/> never reports <see cref="FrameReadStatus.Frozen"/>.
/// </summary>
public sealed class SimCamera : ICamera
{
    private readonly SimWorkcell _workcell;
    private readonly SimRenderer _renderer;
    private readonly long _periodTicks;
    private readonly Lock _gate = new();
    private readonly Lock _lifecycle = new(); // serialises Start, Stop and Dispose
    private readonly ManualResetEventSlim _stop = new(false);
    private Frame _latest, _back;
    private bool _hasFrame, _disposed;
    private long _sequence, _framesCaptured, _renderedVersion;
    private Thread? _thread;
    private Exception? _failure;

    public SimCamera(SimWorkcell workcell, SimRenderOptions options, double fps = 30)
    {
        ArgumentNullException.ThrowIfNull(workcell);
        ArgumentNullException.ThrowIfNull(options);
        if (!(fps is > 0 and <= 1000)) throw new ArgumentOutOfRangeException(nameof(fps), fps, "sim camera fps: expected (0, 1000]");
        _workcell = workcell;
        _renderer = new SimRenderer(options);
        Fps = fps;
        _periodTicks = Math.Max(1, MonotonicClock.FromTimeSpan(TimeSpan.FromSeconds(1 / fps)));
        _latest = new Frame(options.Width, options.Height);
        _back = new Frame(options.Width, options.Height);
    }

    public string Description =>
        $"sim:{(_renderer.Options.Projection == SimProjection.TopDown ? "topdown" : "oblique")} {_renderer.Options.Width}x{_renderer.Options.Height}@{Fps:0.##}";

    public SimRenderOptions Options => _renderer.Options;

    public double Fps { get; }

    /// <summary>The camera's geometry for the workcell's current scene (for calibration files and tests).</summary>
    public SimCameraModel CameraModel => SimCameraModel.Create(_workcell.Scene, _renderer.Options);

    public long FramesCaptured => Interlocked.Read(ref _framesCaptured);

    /// <summary>The error that stopped the capture thread, if one did (<see cref="ReadLatest"/> then reports Failed).</summary>
    public Exception? Failure
    {
        get { lock (_gate) return _failure; }
    }

    /// <summary>Renders the first frame (so a read right after Start finds one) and starts the capture thread. Idempotent.</summary>
    public void Start()
    {
        lock (_lifecycle) StartUnderLifecycle();
    }

    private void StartUnderLifecycle()
    {
        lock (_gate)
        {
            if (_disposed) throw new CameraException($"{Description}: the camera is disposed");
            if (_thread is not null) return;
            _stop.Reset();
        }
        try
        {
            Capture(force: true);
        }
        catch (Exception e)
        {
            throw new CameraException($"{Description}: rendering the first frame failed: {e.Message}", e);
        }
        var thread = new Thread(CaptureLoop) { IsBackground = true, Name = "sim-camera" };
        lock (_gate) _thread = thread;
        thread.Start();
    }

    /// <summary>Stops capturing; the last frame stays readable (and goes stale). Start resumes.</summary>
    public void Stop()
    {
        lock (_lifecycle) StopUnderLifecycle();
    }

    private void StopUnderLifecycle()
    {
        Thread? thread;
        lock (_gate)
        {
            thread = _thread;
            _thread = null;
        }
        if (thread is null) return;
        _stop.Set();
        thread.Join();
    }

    public FrameReadStatus ReadLatest(TimeSpan maxAge, Frame destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        lock (_gate)
        {
            if (_disposed || _failure is not null) return FrameReadStatus.Failed;
            if (!_hasFrame) return FrameReadStatus.NoFrame;
            if (MonotonicClock.Elapsed(_latest.CaptureTicks) > maxAge) return FrameReadStatus.Stale;
            _latest.CopyTo(destination);
            return FrameReadStatus.Ok;
        }
    }

    public void Dispose()
    {
        lock (_lifecycle)
        {
            if (_disposed) return;
            StopUnderLifecycle();
            lock (_gate) _disposed = true;
            _stop.Dispose();
        }
    }

    private void CaptureLoop()
    {
        var next = MonotonicClock.Now;
        while (true)
        {
            next += _periodTicks;
            var wait = next - MonotonicClock.Now;
            if (wait < 0) next = MonotonicClock.Now; // late: don't try to catch up with a burst
            if (_stop.Wait((int)Math.Ceiling(Math.Max(0, MonotonicClock.TicksToMs(wait))))) return;
            try
            {
                Capture(force: false);
            }
            catch (Exception e)
            {
                lock (_gate) _failure = e;
                return;
            }
        }
    }

    /// <summary>Publishes one frame: a new render if the workcell changed (or forced), else the latest image re-stamped.</summary>
    private void Capture(bool force)
    {
        // Stamped when the world is looked at, not when the render is done: a command applied while the image renders
        // is not in it, and the frame must not claim to be newer than that command.
        var observed = MonotonicClock.Now;
        _workcell.Read(out var scene, out var state, out var version);
        var render = force || version != _renderedVersion;
        if (render)
        {
            // _back belongs to the capture thread (or Start, before the thread exists); readers only see _latest.
            _renderer.Render(scene, state, _back);
            _renderedVersion = version;
        }
        lock (_gate)
        {
            if (render) (_latest, _back) = (_back, _latest);
            _latest.CaptureTicks = observed;
            _latest.Sequence = ++_sequence;
            _hasFrame = true;
        }
        Interlocked.Increment(ref _framesCaptured);
    }
}
