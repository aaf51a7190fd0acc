using RobotCtl.Core.Arm;
using RobotCtl.Hardware.Protocol;

namespace RobotCtl.Hardware.Tests;

/// <summary>Random garbage, truncated frames and bit flips between valid frames: the decoder never throws, counts the damage and delivers every intact frame.</summary>
public class FuzzTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Valid_frames_around_damage_are_delivered(int seed)
    {
        var rng = new Random(seed);
        var stream = new List<byte>();
        var expected = new List<uint>();
        var frame = new byte[WireFrame.MaxFrameSize];
        var flipped = 0;
        uint seq = 0;
        for (var i = 0; i < 2000; i++)
        {
            var n = WireFrame.EncodeCommand(frame, ++seq, (ulong)i, new EeCommand(rng.NextSingle(), 0, 0, 0, 0, 0, seq));
            switch (rng.Next(6))
            {
                case 0: // garbage, sometimes containing sync bytes
                    var junk = new byte[rng.Next(1, 60)];
                    rng.NextBytes(junk);
                    if (rng.Next(2) == 0) { junk[0] = WireFrame.Sync0; if (junk.Length > 1) junk[1] = WireFrame.Sync1; }
                    stream.AddRange(junk);
                    break;
                case 1: // truncated frame
                    stream.AddRange(frame.AsSpan(0, rng.Next(1, n)).ToArray());
                    break;
                case 2: // one bit flipped after the sync bytes
                    var copy = frame.AsSpan(0, n).ToArray();
                    var bit = rng.Next(16, n * 8);
                    copy[bit / 8] ^= (byte)(1 << (bit % 8));
                    stream.AddRange(copy);
                    flipped++;
                    break;
            }
            stream.AddRange(frame.AsSpan(0, n).ToArray());
            expected.Add(seq);
        }

        var decoder = new FrameDecoder();
        var got = new List<uint>();
        var data = stream.ToArray().AsSpan();
        while (!data.IsEmpty)
        {
            var chunk = Math.Min(data.Length, rng.Next(1, 300));
            decoder.FeedAll(data[..chunk], got, static (list, f) =>
            {
                if (f.TryReadCommand(out var c) && c.Gripper == f.Sequence) list.Add(f.Sequence);
            });
            data = data[chunk..];
        }

        // Every intact frame arrives once, in order; no damaged copy gets through (every bit after the sync bytes
        // is covered by the CRC or is the CRC).
        Assert.Equal(expected, got);
        Assert.True(decoder.CrcErrors >= flipped * 9 / 10, $"CRC errors {decoder.CrcErrors} for {flipped} flipped frames");
        Assert.True(decoder.DiscardedBytes > 0);
    }

    [Fact]
    public void Pure_random_bytes_never_crash_and_rarely_decode()
    {
        var rng = new Random(99);
        var decoder = new FrameDecoder();
        var buf = new byte[4096];
        var frames = 0;
        for (var i = 0; i < 500; i++)
        {
            rng.NextBytes(buf);
            decoder.FeedAll(buf.AsSpan(0, rng.Next(1, buf.Length)), 0, (_, _) => frames++);
        }
        Assert.True(frames <= 2, $"{frames} frames decoded from random bytes");
    }
}
