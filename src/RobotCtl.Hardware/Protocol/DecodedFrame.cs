using System.Buffers.Binary;
using System.Text;
using RobotCtl.Core.Arm;

namespace RobotCtl.Hardware.Protocol;

/// <summary>A decoded frame. <see cref="Payload"/> points into the decoder's buffer: valid until its next call.</summary>
public readonly ref struct DecodedFrame
{
    public DecodedFrame(MessageType type, uint sequence, ulong timestampMicros, ReadOnlySpan<byte> payload)
    {
        Type = type; Sequence = sequence; TimestampMicros = timestampMicros; Payload = payload;
    }

    public MessageType Type { get; }
    public uint Sequence { get; }
    public ulong TimestampMicros { get; }
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>Parses a Command payload; false when the payload has the wrong size.</summary>
    public bool TryReadCommand(out EeCommand command)
    {
        command = default;
        if (Type != MessageType.Command || Payload.Length != WireFrame.CommandPayloadSize) return false;
        Span<float> v = stackalloc float[EeCommand.Dim];
        for (var i = 0; i < EeCommand.Dim; i++) v[i] = BinaryPrimitives.ReadSingleLittleEndian(Payload[(i * 4)..]);
        command = EeCommand.FromSpan(v);
        return true;
    }

    /// <summary>Parses a State payload, stamping it with the local receive time.</summary>
    public bool TryReadState(long receivedTicks, out ArmState state, out uint lastCommandSequence)
    {
        state = default; lastCommandSequence = 0;
        if (Type != MessageType.State || Payload.Length != WireFrame.StatePayloadSize) return false;
        var p = Payload;
        state = new ArmState(F(p, 0), F(p, 1), F(p, 2), F(p, 3), F(p, 4), F(p, 5), F(p, 6), receivedTicks, Sequence);
        lastCommandSequence = BinaryPrimitives.ReadUInt32LittleEndian(p[(ArmState.Dim * 4)..]);
        return true;
    }

    private static float F(ReadOnlySpan<byte> p, int i) => BinaryPrimitives.ReadSingleLittleEndian(p[(i * 4)..]);

    public bool TryReadHeartbeat(out PeerStatus status)
    {
        status = PeerStatus.Ok;
        if (Type != MessageType.Heartbeat || Payload.Length != 1) return false;
        status = (PeerStatus)Payload[0];
        return true;
    }

    public bool TryReadError(out ushort code, out string message)
    {
        code = 0; message = "";
        if (Type != MessageType.Error || Payload.Length < 2) return false;
        code = BinaryPrimitives.ReadUInt16LittleEndian(Payload);
        message = Encoding.UTF8.GetString(Payload[2..]);
        return true;
    }
}
