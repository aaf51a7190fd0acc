using RobotCtl.Core.Timing;
using RobotCtl.Core.Vision;

namespace RobotCtl.Vision.Cameras;

/// <summary>
/// A camera with its own capture thread that keeps only the latest frame, stamped with the monotonic capture time
/// and a sequence number. Readers never wait for the camera: <see cref="ReadLatest"/> copies the latest frame if it
/// is fresh enough and the stream is not frozen. A live source that fails to read is reopened with exponential
/// backoff; a recording ends or loops. Dispose stops the thread, joins it and releases the source.
/// </summary>
public sealed class CaptureCamera : ICamera
{
    private readonly IFrameGrabber _grabber;
    private readonly CameraRequest _request;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ManualResetEventSlim _consumed = new(false);
    private readonly FrozenStreamDetector _frozen;
    private Thread? _thread;

    // _latest is published under _gate; _back belongs to the capture thread.
    private Frame _latest = new(1, 1);
    private Frame _back = new(1, 1);
    private bool _hasFrame;
    private long _framesCaptured;
    private long _seenSequence;
    private volatile CameraState _state = CameraState.Created;
    private volatile string? _lastError;
    private int _reconnects;
    private bool _disposed;

    /// <summary>A camera over an OpenCV source (device, file, directory, RTSP, GStreamer). Call <see cref="Start"/> to open it.</summary>
    public CaptureCamera(CameraSource source, CameraRequest? request = null)
        : this(CreateGrabber(source, request ?? CameraRequest.Default), request ?? CameraRequest.Default)
    {
    }

    internal CaptureCamera(IFrameGrabber grabber, CameraRequest request)
    {
        request.Validate();
        _grabber = grabber;
        _request = request;
        _frozen = new FrozenStreamDetector(request.FrozenFrameCount);
    }

    /// <summary>Parses <paramref name="source"/> (see <see cref="CameraSource.Parse"/>) and creates the camera.</summary>
    public static CaptureCamera Create(string source, CameraRequest? request = null) => new(CameraSource.Parse(source), request);

    public string Description => _grabber.Description;
    public long FramesCaptured => Interlocked.Read(ref _framesCaptured);
    public CameraState State => _state;

    /// <summary>Why the source last failed (read error, failed reopen), or null.</summary>
    public string? LastError => _lastError;

    /// <summary>Successful reopens after read failures.</summary>
    public int Reconnects => Volatile.Read(ref _reconnects);

    /// <summary>True while the last <see cref="CameraRequest.FrozenFrameCount"/> frames were identical.</summary>
    public bool IsFrozen { get { lock (_gate) return _frozen.IsFrozen; } }

    /// <summary>State changes worth logging (reconnecting, reconnected, frozen, thawed, ended, failed), raised on the capture thread.</summary>
    public event Action<string>? Notice;

    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_thread is not null) throw new InvalidOperationException($"camera {Description} is already started");
        _grabber.Open();
        _state = CameraState.Running;
        _thread = new Thread(CaptureLoop) { IsBackground = true, Name = "camera capture" };
        _thread.Start();
    }

    public FrameReadStatus ReadLatest(TimeSpan maxAge, Frame destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        FrameReadStatus status;
        lock (_gate)
        {
            if (_disposed || _state is CameraState.Reconnecting or CameraState.Failed or CameraState.Stopped) return FrameReadStatus.Failed;
            if (!_hasFrame) return FrameReadStatus.NoFrame;
            if (MonotonicClock.Elapsed(_latest.CaptureTicks) > maxAge) return FrameReadStatus.Stale;
            var sequence = _latest.Sequence;
            status = _frozen.IsFrozen ? FrameReadStatus.Frozen : FrameReadStatus.Ok;
            if (status == FrameReadStatus.Ok) _latest.CopyTo(destination);
            // Lockstep: this frame has been seen (handed out, or refused as frozen), so the next one may be read.
            if (_request.Pacing == PlaybackPacing.Lockstep && sequence > Interlocked.Read(ref _seenSequence))
            {
                Interlocked.Exchange(ref _seenSequence, sequence);
                _consumed.Set();
            }
        }
        return status;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _stop.Cancel();
        _consumed.Set();
        _thread?.Join();  // the thread owns the grabber while it runs: release only after it has finished
        _grabber.Dispose();
        if (_state != CameraState.Failed) _state = CameraState.Stopped;
        _stop.Dispose();
        lock (_gate) _consumed.Dispose();  // readers touch it only under the lock, and see _disposed first
    }

    private void CaptureLoop()
    {
        var token = _stop.Token;
        var recording = _grabber.IsRecording;
        var pacing = recording ? _request.Pacing : PlaybackPacing.AsFastAsPossible;
        long periodTicks = 0, dueTicks = MonotonicClock.Now, framesSinceOpen = 0;
        try
        {
            while (!token.IsCancellationRequested)
            {
                if (pacing == PlaybackPacing.SourceRate)
                {
                    var fps = _request.Fps ?? _grabber.FrameRate;
                    periodTicks = fps > 0 ? MonotonicClock.FromTimeSpan(TimeSpan.FromSeconds(1 / fps)) : 0;
                    var wait = MonotonicClock.TicksToMs(dueTicks - MonotonicClock.Now);
                    if (wait > 0 && token.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(wait))) break;
                }
                switch (_grabber.Grab(_back, out var error))
                {
                    case GrabResult.Frame:
                        Publish();
                        framesSinceOpen++;
                        dueTicks = Math.Max(dueTicks + periodTicks, MonotonicClock.Now - periodTicks);
                        if (pacing == PlaybackPacing.Lockstep) WaitUntilSeen(FramesCaptured, token);
                        break;
                    case GrabResult.EndOfStream when _request.Loop && framesSinceOpen == 0:
                        Fail($"camera {Description}: the recording has no frames to loop over");
                        return;
                    case GrabResult.EndOfStream when _request.Loop:
                        _grabber.Open();
                        framesSinceOpen = 0;
                        dueTicks = MonotonicClock.Now;
                        break;
                    case GrabResult.EndOfStream:
                        _state = CameraState.Ended;
                        Notice?.Invoke($"camera {Description}: end of recording after {FramesCaptured} frames");
                        return;
                    case GrabResult.Failed when recording:
                        Fail($"camera {Description}: read failed: {error}");
                        return;
                    case GrabResult.Failed:
                        if (!Reconnect(error, token)) return;
                        break;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            // Nothing may escape a thread's top frame (it would end the process): the camera reports Failed instead.
            Fail($"camera {Description}: {e.Message}");
        }
    }

    private void WaitUntilSeen(long sequence, CancellationToken token)
    {
        // Reset before re-checking, so a Set between the check and the wait is never lost.
        while (Interlocked.Read(ref _seenSequence) < sequence)
        {
            _consumed.Wait(token);
            _consumed.Reset();
        }
    }

    private void Publish()
    {
        var frozenBefore = _frozen.IsFrozen;
        // Only this thread writes _latest, so it may read it without the lock while readers copy it.
        var identical = _frozen.IsSameImage(_back, _hasFrame ? _latest : null);
        _back.CaptureTicks = MonotonicClock.Now;
        _back.Sequence = FramesCaptured + 1;
        lock (_gate)
        {
            (_latest, _back) = (_back, _latest);
            _hasFrame = true;
            _frozen.Observe(identical);
            Interlocked.Increment(ref _framesCaptured);
        }
        if (_frozen.IsFrozen != frozenBefore)
            Notice?.Invoke(_frozen.IsFrozen
                ? $"camera {Description}: frozen ({_request.FrozenFrameCount} identical frames)"
                : $"camera {Description}: no longer frozen");
    }

    private bool Reconnect(string? error, CancellationToken token)
    {
        _lastError = error;
        _state = CameraState.Reconnecting;
        Notice?.Invoke($"camera {Description}: read failed ({error}); reconnecting");
        _grabber.Close();
        var delay = _request.ReconnectInitialDelay;
        for (var attempt = 1; ; attempt++)
        {
            if (token.WaitHandle.WaitOne(delay)) return false;
            try
            {
                _grabber.Open();
                _state = CameraState.Running;
                Interlocked.Increment(ref _reconnects);
                Notice?.Invoke($"camera {Description}: reconnected after {attempt} attempt(s)");
                return true;
            }
            catch (CameraException e)
            {
                _lastError = e.Message;
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _request.ReconnectMaxDelay.Ticks));
            }
        }
    }

    private void Fail(string message)
    {
        _lastError = message;
        _state = CameraState.Failed;
        Notice?.Invoke(message);
    }

    private static IFrameGrabber CreateGrabber(CameraSource source, CameraRequest request)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source.Kind switch
        {
            CameraSourceKind.ImageDirectory => new ImageDirectoryGrabber(source, request),
            CameraSourceKind.Sim => throw new ArgumentException("camera source 'sim' is the simulated workcell, registered by the host (DeviceRegistry), not an OpenCV source"),
            _ => new VideoCaptureGrabber(source, request),
        };
    }
}
