using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace RobotCtl.Planning.Solvers;

/// <summary>
/// xoshiro256** (Blackman and Vigna), seeded through SplitMix64. Our own generator so that a seed names one exact
/// stream on every .NET version (System.Random's algorithm is unspecified). Normals come from Box-Muller computed
/// with TensorPrimitives over preallocated scratch, so filling allocates nothing.
/// </summary>
public sealed class Xoshiro256StarStar
{
    private ulong _s0, _s1, _s2, _s3;
    private float[] _radius = [], _angle = [], _sin = [];

    public Xoshiro256StarStar(ulong seed) => Reseed(seed);

    /// <summary>Starts the stream named by <paramref name="seed"/> (SplitMix64 expands it into the 256-bit state).</summary>
    public void Reseed(ulong seed)
    {
        _s0 = SplitMix64(ref seed); _s1 = SplitMix64(ref seed); _s2 = SplitMix64(ref seed); _s3 = SplitMix64(ref seed);
    }

    /// <summary>Sets the raw state (reference test vectors use {1, 2, 3, 4}). Not all zero.</summary>
    public void SetState(ulong s0, ulong s1, ulong s2, ulong s3)
    {
        if ((s0 | s1 | s2 | s3) == 0) throw new ArgumentException("xoshiro256** state must not be all zero");
        (_s0, _s1, _s2, _s3) = (s0, s1, s2, s3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Fills <paramref name="destination"/> with independent standard normals (Box-Muller).</summary>
    public void FillStandardNormal(Span<float> destination)
    {
        var pairs = (destination.Length + 1) / 2;
        if (_radius.Length < pairs) { _radius = new float[pairs]; _angle = new float[pairs]; _sin = new float[pairs]; }
        var radius = _radius.AsSpan(0, pairs);
        var angle = _angle.AsSpan(0, pairs);
        var sin = _sin.AsSpan(0, pairs);
        for (var i = 0; i < pairs; i++)
        {
            var bits = NextUInt64();
            // (0, 1] for the logarithm, [0, 1) for the angle: two 24-bit values from one 64-bit draw.
            radius[i] = ((bits >> 40) + 1) * (1.0f / (1 << 24));
            angle[i] = (bits & 0xFFFFFF) * (1.0f / (1 << 24));
        }

        // r = sqrt(-2 ln u1), angle = 2 pi u2; each pair gives r cos(angle) and r sin(angle).
        TensorPrimitives.Log(radius, radius);
        TensorPrimitives.Multiply(radius, -2f, radius);
        TensorPrimitives.Sqrt(radius, radius);
        TensorPrimitives.Multiply(angle, 2f * MathF.PI, angle);
        var cos = destination[..pairs];
        TensorPrimitives.SinCos(angle, sin, cos);
        TensorPrimitives.Multiply(cos, radius, cos);
        var rest = destination[pairs..]; // one shorter than pairs when the length is odd
        TensorPrimitives.Multiply(sin[..rest.Length], radius[..rest.Length], rest);
    }

    private static ulong SplitMix64(ref ulong x)
    {
        var z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
