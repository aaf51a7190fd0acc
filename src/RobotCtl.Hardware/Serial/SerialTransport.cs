using RobotCtl.Core.Timing;
using RobotCtl.Hardware.Links;
using RobotCtl.Hardware.Protocol;

namespace RobotCtl.Hardware.Serial;

/// <summary>
/// A self-healing framed serial connection: one reader thread opens the device, decodes frames and, when the device
/// disappears, closes it, reports and polls for it to come back with exponential backoff. Writes come from any thread
/// and fail fast (false) while the device is away: nothing is queued for later.
/// </summary>
internal sealed class SerialTransport : IDisposable
{
    private readonly SerialLinkOptions _options;
    private readonly ISerialFrameSink _sink;
    private readonly FrameDecoder _decoder = new();
    private readonly Lock _portGate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _reader;
    private SerialPort? _port;
    private volatile string _lastError = "not opened yet";
    private long _reconnects, _writeFailures;

    public SerialTransport(SerialLinkOptions options, ISerialFrameSink sink, string threadName)
    {
        options.Validate();
        _options = options;
        _sink = sink;
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = threadName };
    }

    public bool IsOpen { get { lock (_portGate) return _port is not null; } }
    public string LastError => _lastError;
    public FrameDecoder Decoder => _decoder;
    public long Reconnects => Interlocked.Read(ref _reconnects);
    public long WriteFailures => Interlocked.Read(ref _writeFailures);

    public void Start() => _reader.Start();

    /// <summary>Writes one whole frame now; false when the device is away or did not take it in time.</summary>
    public bool TryWrite(ReadOnlySpan<byte> frame)
    {
        lock (_portGate)
        {
            if (_port is null) return false;
            try
            {
                if (_port.Write(frame, (int)_options.WriteTimeout.TotalMilliseconds)) return true;
                _lastError = "write timed out";
            }
            catch (SerialPortException e)
            {
                _lastError = e.Message; // the reader notices the hang-up and reconnects
            }
            Interlocked.Increment(ref _writeFailures);
            return false;
        }
    }

    private void ReadLoop()
    {
        var token = _stop.Token;
        var buffer = new byte[512];
        var delay = _options.ReconnectInitialDelay;
        var everOpened = false;
        while (!token.IsCancellationRequested)
        {
            SerialPort port;
            try
            {
                port = SerialPort.Open(_options.Device, _options.Baud);
            }
            catch (SerialPortException e)
            {
                _lastError = e.Message;
                token.WaitHandle.WaitOne(delay);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.ReconnectMaxDelay.Ticks));
                continue;
            }
            delay = _options.ReconnectInitialDelay;
            _decoder.Reset();
            lock (_portGate) _port = port;
            if (everOpened) Interlocked.Increment(ref _reconnects);
            everOpened = true;
            _sink.OnConnected(_options.Device);
            string reason;
            try
            {
                while (!token.IsCancellationRequested)
                {
                    var n = port.Read(buffer, 100);
                    if (n == 0) continue;
                    var now = MonotonicClock.Now;
                    var data = buffer.AsSpan(0, n);
                    while (!data.IsEmpty)
                    {
                        var taken = _decoder.Feed(data);
                        data = data[taken..];
                        while (_decoder.TryDecode(out var frame)) _sink.OnFrame(frame, now);
                    }
                }
                reason = "closed";
            }
            catch (SerialPortException e)
            {
                reason = e.Message;
                _lastError = e.Message;
            }
            lock (_portGate) _port = null;
            port.Dispose();
            if (!token.IsCancellationRequested) _sink.OnDisconnected(_options.Device, reason);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        if (_reader.IsAlive) _reader.Join(TimeSpan.FromSeconds(2));
        lock (_portGate) { _port?.Dispose(); _port = null; }
        _stop.Dispose();
    }
}
