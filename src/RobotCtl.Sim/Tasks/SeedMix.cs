namespace RobotCtl.Sim.Tasks;

/// <summary>
/// Seeds for per-episode generators, from a purpose tag and two integers (a run seed and an index), through
/// SplitMix64 finalisers: stable across processes and runtimes (unlike <see cref="HashCode"/>, which is randomised
/// per process), and well spread for adjacent inputs, so episode i's stream does not depend on any other episode.
/// </summary>
public static class SeedMix
{
    /// <summary>A non-negative 31-bit seed for <see cref="Random"/>.</summary>
    public static int Of(ulong tag, int seed, int index)
    {
        var h = Mix(tag);
        h = Mix(h ^ (uint)seed);
        h = Mix(h ^ ((ulong)(uint)index << 1));
        return (int)(h >> 33);
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
