namespace RobotCtl.Hardware.Servers;

/// <summary>
/// Decides whether a command is fresh without assuming the two clocks agree. For each command it computes the
/// apparent delay <c>receive - send</c> (local µs minus the sender's µs: an unknown constant offset plus the real
/// transit time). The smallest apparent delay seen is the baseline; a command whose delay exceeds the baseline by
/// more than the maximum age sat in a queue somewhere (a broker, a buffer during an outage) and is stale. A sender
/// whose clock base changes (restart on another machine) shows up as a run of "stale" commands that keeps arriving
/// over real time; after <see cref="RebaseRun"/> of those spread over at least twice the maximum age the baseline is
/// re-learnt. A replayed burst arrives all at once, so it never re-bases. Sequence numbers a little behind the last
/// accepted one are duplicates or reordered and are dropped too.
/// </summary>
internal sealed class CommandFreshness(long maxAgeMicros)
{
    private const int RebaseRun = 5;
    private const int ReorderWindow = 1024;
    private bool _hasBase;
    private long _baseDelay;
    private bool _hasLast;
    private uint _lastSequence;
    private int _staleRun;
    private long _staleRunStartLocal;

    public const string Fresh = "applied";
    public const string Stale = "dropped: stale (older than MaxCommandAge)";
    public const string Duplicate = "dropped: duplicate or out-of-order sequence";

    public string Check(uint sequence, ulong senderMicros, long localMicros)
    {
        if (_hasLast)
        {
            var diff = (int)(sequence - _lastSequence);
            if (diff <= 0 && diff > -ReorderWindow) return Duplicate;
        }
        var delay = localMicros - (long)senderMicros;
        if (!_hasBase || delay < _baseDelay) { _baseDelay = delay; _hasBase = true; }
        if (delay - _baseDelay > maxAgeMicros)
        {
            if (_staleRun == 0) _staleRunStartLocal = localMicros;
            _staleRun++;
            if (_staleRun >= RebaseRun && localMicros - _staleRunStartLocal >= 2 * maxAgeMicros)
            {
                _baseDelay = delay; // the sender's clock moved: learn the new offset
                _staleRun = 0;
            }
            else return Stale;
        }
        _staleRun = 0;
        _hasLast = true;
        _lastSequence = sequence;
        return Fresh;
    }
}
