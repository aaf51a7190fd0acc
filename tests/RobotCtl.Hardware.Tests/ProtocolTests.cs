using RobotCtl.Core.Arm;
using RobotCtl.Hardware.Protocol;

namespace RobotCtl.Hardware.Tests;

public class ProtocolTests
{
    [Fact]
    public void Crc16_matches_the_CCITT_FALSE_check_value()
    {
        Assert.Equal(0x29B1, Crc16.Compute("123456789"u8));
    }

    [Fact]
    public void Command_frame_has_the_documented_bytes()
    {
        var buf = new byte[WireFrame.MaxFrameSize];
        var n = WireFrame.EncodeCommand(buf, 0x01020304, 0x1122334455667788, new EeCommand(1f, -2f, 0, 0, 0, 0, 0.5f));
        Assert.Equal(48, n);
        Assert.Equal(new byte[] { 0xA5, 0x5A, 1, 0x01, 28, 0, 0x04, 0x03, 0x02, 0x01, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 }, buf[..18]);
        Assert.Equal(new byte[] { 0x00, 0x00, 0x80, 0x3F }, buf[18..22]);   // 1.0f little-endian
        Assert.Equal(new byte[] { 0x00, 0x00, 0x00, 0xC0 }, buf[22..26]);   // -2.0f
        Assert.Equal(new byte[] { 0x00, 0x00, 0x00, 0x3F }, buf[42..46]);   // 0.5f gripper
        var crc = Crc16.Compute(buf.AsSpan(2, 16 + 28));
        Assert.Equal((byte)crc, buf[46]);
        Assert.Equal((byte)(crc >> 8), buf[47]);
    }

    [Fact]
    public void The_worked_example_in_PROTOCOL_md_is_exact()
    {
        var buf = new byte[WireFrame.CommandFrameSize];
        WireFrame.EncodeCommand(buf, 7, 1000, new EeCommand(0.01f, 0, 0, 0, 0, 0, 0.5f));
        Assert.Equal("A55A01011C0007000000E803000000000000" + "0AD7233C" + new string('0', 40) + "0000003F" + "41C7", Convert.ToHexString(buf));
        Assert.Contains("41 C7", File.ReadAllText(Path.Combine(TestRig.RepoRoot, "hardware", "PROTOCOL.md")));
    }

    [Fact]
    public void Every_message_type_round_trips()
    {
        var buf = new byte[WireFrame.MaxFrameSize * 5];
        var at = 0;
        var cmd = new EeCommand(0.01f, -0.02f, 0.003f, 0.04f, -0.05f, 0.06f, -0.2f);
        var state = new ArmState(0.1, -0.2, 0.3, 0.01, 0.02, -0.03, 0.75, 0, 0);
        at += WireFrame.EncodeCommand(buf.AsSpan(at), 7, 1000, cmd);
        at += WireFrame.EncodeState(buf.AsSpan(at), 8, 2000, state, 7);
        at += WireFrame.EncodeHeartbeat(buf.AsSpan(at), 9, 3000, PeerStatus.Holding);
        at += WireFrame.EncodeError(buf.AsSpan(at), 10, 4000, 3, "gripper jammed: é");
        at += WireFrame.Encode(buf.AsSpan(at), MessageType.EStop, 11, 5000, []);

        var decoder = new FrameDecoder();
        decoder.Feed(buf.AsSpan(0, at));

        Assert.True(decoder.TryDecode(out var f));
        Assert.Equal((MessageType.Command, 7u, 1000ul), (f.Type, f.Sequence, f.TimestampMicros));
        Assert.True(f.TryReadCommand(out var cmd2));
        Assert.Equal(cmd, cmd2);

        Assert.True(decoder.TryDecode(out f));
        Assert.True(f.TryReadState(12345, out var s2, out var lastApplied));
        Assert.Equal(7u, lastApplied);
        Assert.Equal(12345, s2.TimestampTicks);
        Assert.Equal(8u, s2.Sequence);
        Assert.Equal((float)state.Y, (float)s2.Y);
        Assert.Equal((float)state.Gripper, (float)s2.Gripper);

        Assert.True(decoder.TryDecode(out f));
        Assert.True(f.TryReadHeartbeat(out var peer));
        Assert.Equal(PeerStatus.Holding, peer);

        Assert.True(decoder.TryDecode(out f));
        Assert.True(f.TryReadError(out var code, out var text));
        Assert.Equal((3, "gripper jammed: é"), (code, text));

        Assert.True(decoder.TryDecode(out f));
        Assert.Equal(MessageType.EStop, f.Type);
        Assert.Equal(0, f.Payload.Length);

        Assert.False(decoder.TryDecode(out _));
        Assert.Equal(0, decoder.CrcErrors);
        Assert.Equal(0, decoder.DiscardedBytes);
    }

    [Fact]
    public void Frames_split_at_every_byte_boundary_still_decode()
    {
        var buf = new byte[WireFrame.MaxFrameSize];
        var n = WireFrame.EncodeCommand(buf, 42, 99, new EeCommand(1, 2, 3, 4, 5, 6, 7));
        for (var split = 0; split <= n; split++)
        {
            var d = new FrameDecoder();
            d.Feed(buf.AsSpan(0, split));
            var early = d.TryDecode(out _);
            Assert.Equal(split == n, early);
            d.Feed(buf.AsSpan(split, n - split));
            if (!early)
            {
                Assert.True(d.TryDecode(out var f));
                Assert.Equal(42u, f.Sequence);
            }
        }
    }

    [Fact]
    public void Oversized_length_and_unknown_version_are_counted_and_skipped()
    {
        var buf = new byte[WireFrame.MaxFrameSize * 3];
        // A header claiming a 1000-byte payload, then a good frame.
        byte[] bad = [0xA5, 0x5A, 1, 1, 0xE8, 0x03];
        bad.CopyTo(buf, 0);
        var at = bad.Length + WireFrame.EncodeCommand(buf.AsSpan(bad.Length), 5, 0, EeCommand.Hold);
        // A well-formed frame of version 2, then another good frame.
        var v2 = WireFrame.EncodeCommand(buf.AsSpan(at), 6, 0, EeCommand.Hold);
        buf[at + 2] = 2;
        var crc = Crc16.Compute(buf.AsSpan(at + 2, v2 - 4));
        buf[at + v2 - 2] = (byte)crc; buf[at + v2 - 1] = (byte)(crc >> 8);
        at += v2;
        at += WireFrame.EncodeCommand(buf.AsSpan(at), 7, 0, EeCommand.Hold);

        var d = new FrameDecoder();
        d.Feed(buf.AsSpan(0, at));
        var seqs = new List<uint>();
        while (d.TryDecode(out var f)) seqs.Add(f.Sequence);
        Assert.Equal([5u, 7u], seqs);
        Assert.Equal(1, d.HeaderErrors);
        Assert.Equal(1, d.VersionErrors);
    }

    [Fact]
    public void Encoder_refuses_a_buffer_that_is_too_small()
    {
        var e = Assert.Throws<ArgumentException>(() => WireFrame.EncodeCommand(new byte[10], 1, 1, EeCommand.Hold));
        Assert.Contains("needs 48", e.Message);
    }
}
