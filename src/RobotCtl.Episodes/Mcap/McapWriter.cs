using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace RobotCtl.Episodes.Mcap;

/// <summary>
/// Writes an indexed MCAP file (https://mcap.dev/spec, major version 0): magic, Header, Schema and Channel records,
/// uncompressed Chunks each followed by its Message Index records, Data End, a Summary section (Schemas, Channels,
/// Statistics, Chunk Indexes, Metadata Indexes), Summary Offsets, Footer, magic. All CRCs are filled in.
/// Messages should be added in log-time order.
/// </summary>
internal sealed class McapWriter : IDisposable
{
    private static readonly byte[] Magic = [0x89, (byte)'M', (byte)'C', (byte)'A', (byte)'P', (byte)'0', (byte)'\r', (byte)'\n'];

    private const byte OpHeader = 0x01, OpFooter = 0x02, OpSchema = 0x03, OpChannel = 0x04, OpMessage = 0x05, OpChunk = 0x06,
        OpMessageIndex = 0x07, OpChunkIndex = 0x08, OpStatistics = 0x0B, OpMetadata = 0x0C, OpMetadataIndex = 0x0D,
        OpSummaryOffset = 0x0E, OpDataEnd = 0x0F;

    private readonly Stream _out;
    private readonly int _chunkSize;
    private readonly RecordBuffer _record = new();
    private readonly RecordBuffer _chunk = new();
    private readonly List<byte[]> _schemaRecords = [], _channelRecords = [], _chunkIndexRecords = [], _metadataIndexRecords = [];
    private readonly SortedDictionary<ushort, List<(ulong Time, ulong Offset)>> _chunkMessageIndex = [];
    private readonly SortedDictionary<ushort, ulong> _channelCounts = [];
    private readonly Crc32 _crc = new();
    private long _position;
    private ulong _chunkStart = ulong.MaxValue, _chunkEnd, _fileStart = ulong.MaxValue, _fileEnd, _messageCount;
    private uint _chunkCount, _metadataCount;
    private ushort _nextSchemaId = 1, _nextChannelId = 1;

    public McapWriter(Stream output, string library, int chunkSize = 1 << 20)
    {
        _out = output;
        _chunkSize = chunkSize;
        Emit(Magic);
        _record.String("");          // profile: none of the well-known ones
        _record.String(library);
        EmitRecord(OpHeader, _record);
    }

    public ushort AddSchema(string name, string encoding, string data)
    {
        var id = _nextSchemaId++;
        _record.U16(id).String(name).String(encoding).Bytes32(Encoding.UTF8.GetBytes(data));
        var bytes = _record.ToRecord(OpSchema);
        _schemaRecords.Add(bytes);
        Emit(bytes);
        return id;
    }

    public ushort AddChannel(ushort schemaId, string topic, string messageEncoding)
    {
        var id = _nextChannelId++;
        _record.U16(id).U16(schemaId).String(topic).String(messageEncoding).U32(0); // empty metadata map
        var bytes = _record.ToRecord(OpChannel);
        _channelRecords.Add(bytes);
        _channelCounts[id] = 0;
        Emit(bytes);
        return id;
    }

    /// <summary>A Metadata record (name plus string map) in the data section, indexed in the summary.</summary>
    public void AddMetadata(string name, IEnumerable<KeyValuePair<string, string>> values)
    {
        FlushChunk();
        var map = new RecordBuffer();
        foreach (var (k, v) in values) map.String(k).String(v);
        _record.String(name).U32((uint)map.Length).Raw(map.Span);
        var bytes = _record.ToRecord(OpMetadata);
        var offset = (ulong)_position;
        Emit(bytes);
        _record.U64(offset).U64((ulong)bytes.Length).String(name);
        _metadataIndexRecords.Add(_record.ToRecord(OpMetadataIndex));
        _metadataCount++;
    }

    public void AddMessage(ushort channelId, uint sequence, ulong logTime, ReadOnlySpan<byte> data)
    {
        if (!_channelCounts.ContainsKey(channelId)) throw new ArgumentException($"channel {channelId} was not added", nameof(channelId));
        var offset = (ulong)_chunk.Length;
        _chunk.Op(OpMessage, 2 + 4 + 8 + 8 + (ulong)data.Length).U16(channelId).U32(sequence).U64(logTime).U64(logTime).Raw(data);
        if (!_chunkMessageIndex.TryGetValue(channelId, out var index)) _chunkMessageIndex[channelId] = index = [];
        index.Add((logTime, offset));
        _chunkStart = Math.Min(_chunkStart, logTime);
        _chunkEnd = Math.Max(_chunkEnd, logTime);
        _fileStart = Math.Min(_fileStart, logTime);
        _fileEnd = Math.Max(_fileEnd, logTime);
        _channelCounts[channelId]++;
        _messageCount++;
        if (_chunk.Length >= _chunkSize) FlushChunk();
    }

    private void FlushChunk()
    {
        if (_chunk.Length == 0) return;
        var records = _chunk.Span;
        var chunkOffset = (ulong)_position;
        _record.U64(_chunkStart).U64(_chunkEnd).U64((ulong)records.Length).U32(Crc32.HashToUInt32(records)).String("")
            .U64((ulong)records.Length).Raw(records);
        var chunkRecord = _record.ToRecord(OpChunk);
        Emit(chunkRecord);

        var indexStart = (ulong)_position;
        var indexOffsets = new List<(ushort Channel, ulong Offset)>();
        foreach (var (channel, entries) in _chunkMessageIndex)
        {
            indexOffsets.Add((channel, (ulong)_position));
            _record.U16(channel).U32((uint)(entries.Count * 16));
            foreach (var (time, offset) in entries) _record.U64(time).U64(offset);
            Emit(_record.ToRecord(OpMessageIndex));
        }
        var indexLength = (ulong)_position - indexStart;

        _record.U64(_chunkStart).U64(_chunkEnd).U64(chunkOffset).U64((ulong)chunkRecord.Length).U32((uint)(indexOffsets.Count * 10));
        foreach (var (channel, offset) in indexOffsets) _record.U16(channel).U64(offset);
        _record.U64(indexLength).String("").U64((ulong)records.Length).U64((ulong)records.Length);
        _chunkIndexRecords.Add(_record.ToRecord(OpChunkIndex));

        _chunkCount++;
        _chunk.Clear();
        _chunkMessageIndex.Clear();
        _chunkStart = ulong.MaxValue;
        _chunkEnd = 0;
    }

    /// <summary>Flushes the last chunk and writes Data End, the summary, the summary offsets, the footer and the magic.</summary>
    public void Finish()
    {
        FlushChunk();
        _record.U32(_crc.GetCurrentHashAsUInt32());
        Emit(_record.ToRecord(OpDataEnd));

        var summaryStart = (ulong)_position;
        _crc.Reset();
        var groups = new List<(byte Op, ulong Start, ulong Length)>();
        void Group(byte op, List<byte[]> records)
        {
            if (records.Count == 0) return;
            var start = (ulong)_position;
            foreach (var r in records) Emit(r);
            groups.Add((op, start, (ulong)_position - start));
        }
        Group(OpSchema, _schemaRecords);
        Group(OpChannel, _channelRecords);
        _record.U64(_messageCount).U16((ushort)_schemaRecords.Count).U32((uint)_channelRecords.Count).U32(0).U32(_metadataCount)
            .U32(_chunkCount).U64(_messageCount == 0 ? 0 : _fileStart).U64(_fileEnd).U32((uint)(_channelCounts.Count * 10));
        foreach (var (channel, count) in _channelCounts) _record.U16(channel).U64(count);
        Group(OpStatistics, [_record.ToRecord(OpStatistics)]);
        Group(OpChunkIndex, _chunkIndexRecords);
        Group(OpMetadataIndex, _metadataIndexRecords);

        var summaryOffsetStart = (ulong)_position;
        foreach (var (op, start, length) in groups)
        {
            _record.U8(op).U64(start).U64(length);
            Emit(_record.ToRecord(OpSummaryOffset));
        }
        // The footer's CRC covers the summary through the footer's summary_offset_start field.
        _record.U64(summaryStart).U64(summaryOffsetStart);
        var footerHead = _record.ToRecord(OpFooter, extraLength: 4);
        Emit(footerHead);
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(crc, _crc.GetCurrentHashAsUInt32());
        Emit(crc);
        Emit(Magic);
        _out.Flush();
    }

    private void EmitRecord(byte op, RecordBuffer content) => Emit(content.ToRecord(op));

    private void Emit(ReadOnlySpan<byte> bytes)
    {
        _out.Write(bytes);
        _crc.Append(bytes);
        _position += bytes.Length;
    }

    public void Dispose() => _out.Flush();

    /// <summary>Little-endian record builder; reused, so building a record allocates only its final array.</summary>
    private sealed class RecordBuffer
    {
        private byte[] _buffer = new byte[256];
        public int Length { get; private set; }
        public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

        public void Clear() => Length = 0;

        private Span<byte> Take(int n)
        {
            if (Length + n > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + n));
            var span = _buffer.AsSpan(Length, n);
            Length += n;
            return span;
        }

        public RecordBuffer U8(byte v) { Take(1)[0] = v; return this; }
        public RecordBuffer U16(ushort v) { BinaryPrimitives.WriteUInt16LittleEndian(Take(2), v); return this; }
        public RecordBuffer U32(uint v) { BinaryPrimitives.WriteUInt32LittleEndian(Take(4), v); return this; }
        public RecordBuffer U64(ulong v) { BinaryPrimitives.WriteUInt64LittleEndian(Take(8), v); return this; }
        public RecordBuffer Raw(ReadOnlySpan<byte> v) { v.CopyTo(Take(v.Length)); return this; }
        public RecordBuffer Op(byte op, ulong length) => U8(op).U64(length);

        public RecordBuffer String(string s)
        {
            var n = Encoding.UTF8.GetByteCount(s);
            U32((uint)n);
            Encoding.UTF8.GetBytes(s, Take(n));
            return this;
        }

        public RecordBuffer Bytes32(ReadOnlySpan<byte> v) => U32((uint)v.Length).Raw(v);

        /// <summary>Opcode + uint64 length + content, then clears the builder.</summary>
        public byte[] ToRecord(byte op, int extraLength = 0)
        {
            var bytes = new byte[9 + Length];
            bytes[0] = op;
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(1), (ulong)(Length + extraLength));
            Span.CopyTo(bytes.AsSpan(9));
            Clear();
            return bytes;
        }
    }
}
