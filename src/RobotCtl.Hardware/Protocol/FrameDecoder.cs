using System.Buffers.Binary;

namespace RobotCtl.Hardware.Protocol;

/// <summary>
/// Streaming decoder: bytes go in with <see cref="Feed"/> in any chunking, whole frames come out of
/// <see cref="TryDecode"/>. Garbage, frames with a bad CRC and impossible headers are skipped one byte at a time
/// (so a real frame hidden behind a false sync is still found) and counted. Allocation-free.
/// </summary>
public sealed class FrameDecoder
{
    private readonly byte[] _buffer = new byte[WireFrame.MaxFrameSize * 4];
    private int _start, _end;

    /// <summary>Frames whose CRC did not match.</summary>
    public long CrcErrors { get; private set; }
    /// <summary>Headers that cannot be a frame (length above the maximum).</summary>
    public long HeaderErrors { get; private set; }
    /// <summary>Well-formed frames of a protocol version this decoder does not speak.</summary>
    public long VersionErrors { get; private set; }
    /// <summary>Bytes thrown away while searching for a frame.</summary>
    public long DiscardedBytes { get; private set; }
    public long FramesDecoded { get; private set; }

    /// <summary>Appends bytes; returns how many were taken (fewer only when the buffer is full of undecoded frames).</summary>
    public int Feed(ReadOnlySpan<byte> data)
    {
        if (_end == _buffer.Length && _start > 0) Compact();
        else if (_buffer.Length - _end < data.Length && _start > 0) Compact();
        var n = Math.Min(data.Length, _buffer.Length - _end);
        data[..n].CopyTo(_buffer.AsSpan(_end));
        _end += n;
        return n;
    }

    /// <summary>Feeds everything, decoding in between, and hands each valid frame to <paramref name="onFrame"/>.</summary>
    public void FeedAll<TState>(ReadOnlySpan<byte> data, TState state, FrameHandler<TState> onFrame)
    {
        while (true)
        {
            var n = Feed(data);
            data = data[n..];
            while (TryDecode(out var frame)) onFrame(state, frame);
            if (data.IsEmpty) return;
        }
    }

    /// <summary>Drops everything buffered (after a reconnect: half a frame from the old connection is garbage).</summary>
    public void Reset() { _start = _end = 0; }

    public bool TryDecode(out DecodedFrame frame)
    {
        while (true)
        {
            var pending = _buffer.AsSpan(_start, _end - _start);
            var sync = IndexOfSync(pending);
            if (sync < 0)
            {
                // Keep a trailing first sync byte: its partner may come with the next chunk.
                var keep = pending.Length > 0 && pending[^1] == WireFrame.Sync0 ? 1 : 0;
                Discard(pending.Length - keep);
                frame = default;
                return false;
            }
            Discard(sync);
            pending = _buffer.AsSpan(_start, _end - _start);
            if (pending.Length < 6) { frame = default; return false; }
            int payloadLength = BinaryPrimitives.ReadUInt16LittleEndian(pending[4..]);
            if (payloadLength > WireFrame.MaxPayload) { HeaderErrors++; Discard(1); continue; }
            var total = WireFrame.Overhead + payloadLength;
            if (pending.Length < total) { frame = default; return false; }
            var crc = BinaryPrimitives.ReadUInt16LittleEndian(pending[(WireFrame.HeaderSize + payloadLength)..]);
            if (Crc16.Compute(pending[2..(WireFrame.HeaderSize + payloadLength)]) != crc) { CrcErrors++; Discard(1); continue; }
            if (pending[2] != WireFrame.Version) { VersionErrors++; Discard(total); continue; }
            frame = new DecodedFrame(
                (MessageType)pending[3],
                BinaryPrimitives.ReadUInt32LittleEndian(pending[6..]),
                BinaryPrimitives.ReadUInt64LittleEndian(pending[10..]),
                pending.Slice(WireFrame.HeaderSize, payloadLength));
            _start += total; // not Discard: these bytes were a frame
            FramesDecoded++;
            return true;
        }
    }

    private static int IndexOfSync(ReadOnlySpan<byte> s)
    {
        var from = 0;
        while (true)
        {
            var i = s[from..].IndexOf(WireFrame.Sync0);
            if (i < 0) return -1;
            i += from;
            if (i + 1 >= s.Length) return -1;
            if (s[i + 1] == WireFrame.Sync1) return i;
            from = i + 1;
        }
    }

    private void Discard(int n)
    {
        DiscardedBytes += n;
        _start += n;
        if (_start == _end) _start = _end = 0;
    }

    private void Compact()
    {
        var n = _end - _start;
        _buffer.AsSpan(_start, n).CopyTo(_buffer);
        _start = 0; _end = n;
    }
}
