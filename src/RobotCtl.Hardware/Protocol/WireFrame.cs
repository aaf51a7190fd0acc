using System.Buffers.Binary;
using System.Text;
using RobotCtl.Core.Arm;

namespace RobotCtl.Hardware.Protocol;

/// <summary>
/// Frame layout (all little-endian):
/// <c>A5 5A | version u8 | type u8 | payload length u16 | sequence u32 | timestamp µs u64 | payload | CRC-16 u16</c>.
/// The CRC covers version..payload (everything but the sync bytes and itself).
/// </summary>
public static class WireFrame
{
    public const byte Sync0 = 0xA5, Sync1 = 0x5A;
    public const byte Version = 1;
    public const int HeaderSize = 18;
    public const int CrcSize = 2;
    public const int Overhead = HeaderSize + CrcSize;
    public const int MaxPayload = 256;
    public const int MaxFrameSize = Overhead + MaxPayload;

    public const int CommandPayloadSize = EeCommand.Dim * 4;
    /// <summary>Pose and gripper (7 x float32) followed by the sequence of the last command applied (u32).</summary>
    public const int StatePayloadSize = ArmState.Dim * 4 + 4;
    public const int CommandFrameSize = Overhead + CommandPayloadSize;
    public const int StateFrameSize = Overhead + StatePayloadSize;

    /// <summary>Writes one frame into <paramref name="destination"/> and returns its length.</summary>
    public static int Encode(Span<byte> destination, MessageType type, uint sequence, ulong timestampMicros, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > MaxPayload) throw new ArgumentException($"payload of {payload.Length} bytes exceeds the protocol maximum of {MaxPayload}", nameof(payload));
        var total = Overhead + payload.Length;
        if (destination.Length < total) throw new ArgumentException($"destination holds {destination.Length} bytes, the frame needs {total}", nameof(destination));
        WriteHeader(destination, type, (ushort)payload.Length, sequence, timestampMicros);
        payload.CopyTo(destination[HeaderSize..]);
        WriteCrc(destination, payload.Length);
        return total;
    }

    public static int EncodeCommand(Span<byte> destination, uint sequence, ulong timestampMicros, in EeCommand command)
    {
        if (destination.Length < CommandFrameSize) throw new ArgumentException($"destination holds {destination.Length} bytes, a command frame needs {CommandFrameSize}", nameof(destination));
        WriteHeader(destination, MessageType.Command, CommandPayloadSize, sequence, timestampMicros);
        var p = destination.Slice(HeaderSize, CommandPayloadSize);
        for (var i = 0; i < EeCommand.Dim; i++) BinaryPrimitives.WriteSingleLittleEndian(p[(i * 4)..], command[i]);
        WriteCrc(destination, CommandPayloadSize);
        return CommandFrameSize;
    }

    public static int EncodeState(Span<byte> destination, uint sequence, ulong timestampMicros, in ArmState state, uint lastCommandSequence)
    {
        if (destination.Length < StateFrameSize) throw new ArgumentException($"destination holds {destination.Length} bytes, a state frame needs {StateFrameSize}", nameof(destination));
        WriteHeader(destination, MessageType.State, StatePayloadSize, sequence, timestampMicros);
        var p = destination.Slice(HeaderSize, StatePayloadSize);
        Span<float> pose = stackalloc float[ArmState.Dim];
        state.CopyPoseTo(pose);
        for (var i = 0; i < ArmState.Dim; i++) BinaryPrimitives.WriteSingleLittleEndian(p[(i * 4)..], pose[i]);
        BinaryPrimitives.WriteUInt32LittleEndian(p[(ArmState.Dim * 4)..], lastCommandSequence);
        WriteCrc(destination, StatePayloadSize);
        return StateFrameSize;
    }

    public static int EncodeHeartbeat(Span<byte> destination, uint sequence, ulong timestampMicros, PeerStatus status)
    {
        Span<byte> payload = [(byte)status];
        return Encode(destination, MessageType.Heartbeat, sequence, timestampMicros, payload);
    }

    /// <summary>Error payload: code u16 then UTF-8 text (truncated to fit).</summary>
    public static int EncodeError(Span<byte> destination, uint sequence, ulong timestampMicros, ushort code, string message)
    {
        Span<byte> payload = stackalloc byte[MaxPayload];
        BinaryPrimitives.WriteUInt16LittleEndian(payload, code);
        var text = payload[2..];
        var n = Encoding.UTF8.GetByteCount(message) <= text.Length
            ? Encoding.UTF8.GetBytes(message, text)
            : Encoding.UTF8.GetBytes(message.AsSpan(0, Math.Min(message.Length, text.Length / 3)), text);
        return Encode(destination, MessageType.Error, sequence, timestampMicros, payload[..(2 + n)]);
    }

    private static void WriteHeader(Span<byte> d, MessageType type, ushort payloadLength, uint sequence, ulong timestampMicros)
    {
        d[0] = Sync0; d[1] = Sync1; d[2] = Version; d[3] = (byte)type;
        BinaryPrimitives.WriteUInt16LittleEndian(d[4..], payloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(d[6..], sequence);
        BinaryPrimitives.WriteUInt64LittleEndian(d[10..], timestampMicros);
    }

    private static void WriteCrc(Span<byte> d, int payloadLength)
    {
        var crc = Crc16.Compute(d[2..(HeaderSize + payloadLength)]);
        BinaryPrimitives.WriteUInt16LittleEndian(d[(HeaderSize + payloadLength)..], crc);
    }
}
