using System.Globalization;
using System.Text;

namespace RobotCtl.Sim;

/// <summary>
/// The simulated workcell's scene: a walled tabletop, one cube-shaped block and a disk-shaped end effector.
/// SI units throughout: metres, radians, seconds. Bind it from configuration (section "Sim:Scene") or parse a
/// scene string (<see cref="Parse"/>), e.g. <c>seed=3,block=0.1:0.05,ee=0:0:0.1</c>.
/// </summary>
public sealed record SimSceneOptions
{
    /// <summary>Seeds everything random in the scene (the block pose when it is not given).</summary>
    public int Seed { get; init; }

    /// <summary>Table bounds. The walls stand just outside x/y; z is the effector's height above the table.</summary>
    public double XMin { get; init; } = -0.3;
    public double XMax { get; init; } = 0.3;
    public double YMin { get; init; } = -0.3;
    public double YMax { get; init; } = 0.3;
    public double ZMin { get; init; }
    public double ZMax { get; init; } = 0.3;

    /// <summary>Edge length of the cube-shaped block (also its height).</summary>
    public double BlockSize { get; init; } = 0.08;

    /// <summary>Initial block pose; a null component is drawn from <see cref="Seed"/>.</summary>
    public double? BlockX { get; init; }
    public double? BlockY { get; init; }
    public double? BlockYaw { get; init; }

    /// <summary>Initial effector pose (centre of its bottom disk) and gripper closedness (0 open, 1 closed).</summary>
    public double EeX { get; init; }
    public double EeY { get; init; } = -0.15;
    public double EeZ { get; init; } = 0.02;
    public double EeYaw { get; init; }
    public double Gripper { get; init; }

    /// <summary>Radius of the effector's disk: the part that pushes the block when it is lower than the block's top.</summary>
    public double EffectorRadius { get; init; } = 0.02;

    /// <summary>Simulated time one command stands for (sets <see cref="SimWorkcell.SimSeconds"/> and the speed limits).</summary>
    public double StepSeconds { get; init; } = 0.05;

    /// <summary>Top effector speed: a command moving further than MaxSpeed * StepSeconds is shortened (direction kept).</summary>
    public double MaxSpeed { get; init; } = 1.0;

    /// <summary>Top yaw rate: a yaw delta larger than MaxYawRate * StepSeconds is clipped.</summary>
    public double MaxYawRate { get; init; } = 6.0;

    /// <summary>
    /// How much an off-centre push turns the block: yaw change = PushSpin * torque arm x push depth / (half size)^2.
    /// 0 gives pure translation.
    /// </summary>
    public double PushSpin { get; init; } = 0.5;

    public static SimSceneOptions Default { get; } = new();

    /// <summary>Half the block's edge.</summary>
    public double BlockHalf => BlockSize / 2;

    /// <summary>Lowest corner of the box the effector's centre can reach (its disk stays clear of the walls).</summary>
    public (double X, double Y, double Z) EffectorMin => (XMin + EffectorRadius, YMin + EffectorRadius, ZMin);

    /// <summary>Highest corner of the box the effector's centre can reach.</summary>
    public (double X, double Y, double Z) EffectorMax => (XMax - EffectorRadius, YMax - EffectorRadius, ZMax);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad field, what it expects and what it found.</summary>
    public void Validate()
    {
        static void Finite(string name, double v)
        {
            if (!double.IsFinite(v)) throw new ArgumentException($"Sim scene {name}: expected a finite number, found {v}");
        }
        static void Positive(string name, double v)
        {
            if (!(v > 0) || !double.IsFinite(v)) throw new ArgumentException($"Sim scene {name}: expected a finite value > 0, found {v}");
        }
        Finite(nameof(XMin), XMin); Finite(nameof(XMax), XMax); Finite(nameof(YMin), YMin);
        Finite(nameof(YMax), YMax); Finite(nameof(ZMin), ZMin); Finite(nameof(ZMax), ZMax);
        Positive(nameof(BlockSize), BlockSize); Positive(nameof(EffectorRadius), EffectorRadius);
        Positive(nameof(StepSeconds), StepSeconds); Positive(nameof(MaxSpeed), MaxSpeed); Positive(nameof(MaxYawRate), MaxYawRate);
        if (!(PushSpin >= 0) || !double.IsFinite(PushSpin)) throw new ArgumentException($"Sim scene PushSpin: expected a finite value >= 0, found {PushSpin}");
        if (!(ZMax > ZMin)) throw new ArgumentException($"Sim scene z bounds: expected ZMin < ZMax, found {ZMin} >= {ZMax}");
        // The block must fit between the walls at any yaw, with room for the effector beside it.
        var need = BlockSize * Math.Sqrt(2) + 2 * EffectorRadius;
        if (XMax - XMin < need || YMax - YMin < need)
            throw new ArgumentException(
                $"Sim scene bounds: the table ({XMax - XMin:0.###} x {YMax - YMin:0.###} m) must be at least {need:0.###} m on each side " +
                $"(block diagonal + effector diameter)");
        if (ZMin > 0) throw new ArgumentException($"Sim scene ZMin: expected <= 0 (the table top is z = 0), found {ZMin}");
        foreach (var (name, v) in new[] { ("BlockX", BlockX), ("BlockY", BlockY), ("BlockYaw", BlockYaw) })
            if (v is { } value) Finite(name, value);
        Finite(nameof(EeX), EeX); Finite(nameof(EeY), EeY); Finite(nameof(EeZ), EeZ); Finite(nameof(EeYaw), EeYaw);
        var (lx, ly, lz) = EffectorMin;
        var (hx, hy, hz) = EffectorMax;
        if (EeX < lx || EeX > hx || EeY < ly || EeY > hy || EeZ < lz || EeZ > hz)
            throw new ArgumentException(
                $"Sim scene effector start ({EeX}, {EeY}, {EeZ}): expected inside x [{lx}, {hx}], y [{ly}, {hy}], z [{lz}, {hz}]");
        if (!(Gripper is >= 0 and <= 1)) throw new ArgumentException($"Sim scene Gripper: expected a closedness in [0, 1], found {Gripper}");
    }

    /// <summary>
    /// Parses a scene string: comma-separated <c>key=value</c> pairs over <see cref="Default"/>, values in metres and
    /// radians, colon-separated where a key takes several. Keys: <c>seed=N</c>, <c>block=x:y[:yaw]</c>,
    /// <c>blocksize=s</c>, <c>ee=x:y:z[:yaw]</c>, <c>gripper=g</c>, <c>bounds=xmin:xmax:ymin:ymax[:zmin:zmax]</c>,
    /// <c>radius=r</c>, <c>step=s</c>, <c>speed=v</c>, <c>yawrate=w</c>, <c>spin=k</c>. An empty string is the default scene.
    /// Throws <see cref="FormatException"/> naming the bad key and what it expects, or the field that fails validation.
    /// </summary>
    public static SimSceneOptions Parse(string text, SimSceneOptions? over = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var o = over ?? Default;
        foreach (var rawPair in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = rawPair.IndexOf('=');
            if (eq <= 0) throw new FormatException($"Sim scene '{text}': expected key=value, found '{rawPair}'");
            var key = rawPair[..eq].Trim().ToLowerInvariant();
            var value = rawPair[(eq + 1)..].Trim();
            o = Apply(o, key, value, text);
        }
        try
        {
            o.Validate();
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"Sim scene '{text}': {e.Message}", e);
        }
        return o;
    }

    private static SimSceneOptions Apply(SimSceneOptions o, string key, string value, string text)
    {
        switch (key)
        {
            case "seed":
                return o with
                {
                    Seed = int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
                        ? n
                        : throw new FormatException($"Sim scene key 'seed': expected an integer, found '{value}'"),
                };
            case "block":
            {
                var v = Numbers(key, value, 2, 3);
                return o with { BlockX = v[0], BlockY = v[1], BlockYaw = v.Length > 2 ? v[2] : 0 };
            }
            case "ee":
            {
                var v = Numbers(key, value, 3, 4);
                return o with { EeX = v[0], EeY = v[1], EeZ = v[2], EeYaw = v.Length > 3 ? v[3] : 0 };
            }
            case "bounds":
            {
                var v = Numbers(key, value, 4, 6);
                return o with
                {
                    XMin = v[0], XMax = v[1], YMin = v[2], YMax = v[3],
                    ZMin = v.Length > 4 ? v[4] : o.ZMin, ZMax = v.Length > 5 ? v[5] : o.ZMax,
                };
            }
            case "blocksize": return o with { BlockSize = Number(key, value) };
            case "gripper": return o with { Gripper = Number(key, value) };
            case "radius": return o with { EffectorRadius = Number(key, value) };
            case "step": return o with { StepSeconds = Number(key, value) };
            case "speed": return o with { MaxSpeed = Number(key, value) };
            case "yawrate": return o with { MaxYawRate = Number(key, value) };
            case "spin": return o with { PushSpin = Number(key, value) };
            default:
                throw new FormatException(
                    $"Sim scene '{text}': unknown key '{key}' (expected one of seed, block, blocksize, ee, gripper, bounds, radius, step, speed, yawrate, spin)");
        }
    }

    private static double Number(string key, string value) => Numbers(key, value, 1, 1)[0];

    private static double[] Numbers(string key, string value, int min, int max)
    {
        var parts = value.Split(':', StringSplitOptions.TrimEntries);
        if (parts.Length < min || parts.Length > max)
            throw new FormatException(
                $"Sim scene key '{key}': expected {(min == max ? $"{min}" : $"{min} to {max}")} colon-separated numbers, found '{value}'");
        var result = new double[parts.Length];
        for (var i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out result[i]) || !double.IsFinite(result[i]))
                throw new FormatException($"Sim scene key '{key}': expected a number, found '{parts[i]}'");
        return result;
    }

    /// <summary>The scene as a string <see cref="Parse"/> reads back to an equal record (block included when set).</summary>
    public string ToSceneString()
    {
        var s = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        s.Append(c, $"seed={Seed},bounds={XMin:R}:{XMax:R}:{YMin:R}:{YMax:R}:{ZMin:R}:{ZMax:R},blocksize={BlockSize:R}");
        if (BlockX is { } bx && BlockY is { } by) s.Append(c, $",block={bx:R}:{by:R}:{BlockYaw ?? 0:R}");
        s.Append(c, $",ee={EeX:R}:{EeY:R}:{EeZ:R}:{EeYaw:R},gripper={Gripper:R},radius={EffectorRadius:R}");
        s.Append(c, $",step={StepSeconds:R},speed={MaxSpeed:R},yawrate={MaxYawRate:R},spin={PushSpin:R}");
        return s.ToString();
    }
}
