using RobotCtl.Core.Arm;
using RobotCtl.Core.Timing;

namespace RobotCtl.Sim;

/// <summary>
/// A kinematic tabletop workcell: a disk-shaped end effector that moves in x, y, z and yaw (roll and pitch held at 0)
/// with a gripper, and one cube-shaped block that the effector pushes. Deterministic: the same scene and the same
/// commands give the same states, bit for bit. Thread-safe: every member takes one lock, so a camera thread can
/// render while the arm thread applies commands.
/// </summary>
/// <remarks>
/// One <see cref="Apply"/> is one step of <see cref="SimSceneOptions.StepSeconds"/>: the translation is shortened to
/// the speed limit, the target clamped to the reachable box, and the motion walked in substeps no longer than a
/// quarter of the smaller of the effector radius and block size. At each substep, when the effector is lower than the
/// block's top and its disk overlaps the block's square, the block is moved out along the contact normal (turning
/// it by <see cref="SimSceneOptions.PushSpin"/> when the push is off-centre) and kept inside the walls. Coming down
/// onto the block from above, the effector rests on its top. If the block cannot give way (pinned against a wall),
/// the effector stops where it meets it (found by bisecting the blocked substep). Yaw is wrapped to [-pi, pi]; gripper closedness is
/// clipped to [0, 1] and does not interact with the block.
/// </remarks>
public sealed class SimWorkcell : IArmBackend
{
    /// <summary>Overlap tolerated between effector and block, metres (floating-point slack).</summary>
    public const double ContactTolerance = 1e-9;

    private const int MaxSubsteps = 256;
    private const int SpinIterations = 4;
    private const int ResolveIterations = 8;
    private const int BisectionSteps = 24;

    private readonly Lock _gate = new();
    private SimSceneOptions _scene = SimSceneOptions.Default;
    private double _x, _y, _z, _yaw, _gripper, _bx, _by, _byaw;
    private uint _sequence;
    private long _version;

    public SimWorkcell(SimSceneOptions? scene = null) => Reset(scene ?? SimSceneOptions.Default);

    /// <summary>The scene the workcell was last reset to.</summary>
    public SimSceneOptions Scene
    {
        get { lock (_gate) return _scene; }
    }

    /// <summary>Increments on every change of the state (a command that moved something, Reset, Restore): the camera re-renders on it.</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>Simulated time since the last reset: commands applied x <see cref="SimSceneOptions.StepSeconds"/>.</summary>
    public double SimSeconds
    {
        get { lock (_gate) return _sequence * _scene.StepSeconds; }
    }

    public SimBlockPose BlockPose
    {
        get { lock (_gate) return new SimBlockPose(_bx, _by, _byaw); }
    }

    /// <summary>The effector's state, stamped now (a simulated arm's state is always current).</summary>
    public ArmState CurrentState
    {
        get { lock (_gate) return StateNow(); }
    }

    /// <summary>Integrates one step (see the class remarks). Throws <see cref="ArgumentException"/> for a non-finite command, changing nothing.</summary>
    public ArmState Apply(in EeCommand command)
    {
        if (!command.IsFinite)
            throw new ArgumentException($"SimWorkcell.Apply: expected finite command components, found {command}", nameof(command));
        lock (_gate)
        {
            var before = SnapshotUnlocked();
            var sc = _scene;
            double dx = command.Dx, dy = command.Dy, dz = command.Dz;
            var maxStep = sc.MaxSpeed * sc.StepSeconds;
            var length = Math.Sqrt(dx * dx + dy * dy + dz * dz);
            if (length > maxStep)
            {
                var k = maxStep / length;
                dx *= k; dy *= k; dz *= k;
            }
            var (lx, ly, lz) = sc.EffectorMin;
            var (hx, hy, hz) = sc.EffectorMax;
            double x0 = _x, y0 = _y, z0 = _z;
            var tx = Math.Clamp(x0 + dx, lx, hx);
            var ty = Math.Clamp(y0 + dy, ly, hy);
            var tz = Math.Clamp(z0 + dz, lz, hz);
            var travel = Math.Max(Math.Sqrt((tx - x0) * (tx - x0) + (ty - y0) * (ty - y0)), Math.Abs(tz - z0));
            var substeps = (int)Math.Clamp(Math.Ceiling(travel / (0.25 * Math.Min(sc.EffectorRadius, sc.BlockSize))), 1, MaxSubsteps);
            for (var i = 1; i <= substeps; i++)
            {
                var t = (double)i / substeps;
                if (TryStepTo(x0 + (tx - x0) * t, y0 + (ty - y0) * t, z0 + (tz - z0) * t)) continue;
                // Blocked: creep up to the obstacle by bisecting the blocked substep, then stop.
                double px = _x, py = _y, pz = _z, qx = x0 + (tx - x0) * t, qy = y0 + (ty - y0) * t, qz = z0 + (tz - z0) * t;
                double lo = 0, hi = 1;
                for (var k = 0; k < BisectionSteps; k++)
                {
                    var mid = (lo + hi) / 2;
                    if (TryStepTo(px + (qx - px) * mid, py + (qy - py) * mid, pz + (qz - pz) * mid)) lo = mid;
                    else hi = mid;
                }
                break;
            }
            var maxYaw = sc.MaxYawRate * sc.StepSeconds;
            _yaw = WrapAngle(_yaw + Math.Clamp(command.DYaw, -maxYaw, maxYaw));
            _gripper = Math.Clamp(_gripper + command.Gripper, 0, 1);
            _sequence++;
            if (SnapshotUnlocked() with { Sequence = before.Sequence } != before) Interlocked.Increment(ref _version);
            return StateNow();
        }
    }

    /// <summary>Starts over in <paramref name="scene"/>: validates it, places the block (drawn from the seed where not given), zeroes the sequence.</summary>
    public void Reset(SimSceneOptions scene)
    {
        ArgumentNullException.ThrowIfNull(scene);
        scene.Validate();
        var (bx, by, byaw) = PlaceBlock(scene);
        lock (_gate)
        {
            _scene = scene;
            (_x, _y, _z, _yaw, _gripper) = (scene.EeX, scene.EeY, scene.EeZ, WrapAngle(scene.EeYaw), scene.Gripper);
            (_bx, _by, _byaw) = (bx, by, byaw);
            _sequence = 0;
            Interlocked.Increment(ref _version);
        }
    }

    /// <summary>The full dynamic state, for tests and for rewinding (the scene is <see cref="Scene"/>).</summary>
    public SimSnapshot Snapshot()
    {
        lock (_gate) return SnapshotUnlocked();
    }

    /// <summary>Puts back a state taken by <see cref="Snapshot"/>; throws <see cref="ArgumentException"/> if it is not a valid state of the current scene.</summary>
    public void Restore(in SimSnapshot snapshot)
    {
        lock (_gate)
        {
            var sc = _scene;
            var (lx, ly, lz) = sc.EffectorMin;
            var (hx, hy, hz) = sc.EffectorMax;
            var s = snapshot;
            if (!(s.EeX >= lx && s.EeX <= hx && s.EeY >= ly && s.EeY <= hy && s.EeZ >= lz && s.EeZ <= hz))
                throw new ArgumentException($"SimWorkcell.Restore: effector ({s.EeX}, {s.EeY}, {s.EeZ}) is outside x [{lx}, {hx}], y [{ly}, {hy}], z [{lz}, {hz}]");
            if (!(s.Gripper is >= 0 and <= 1) || !double.IsFinite(s.EeYaw))
                throw new ArgumentException($"SimWorkcell.Restore: expected gripper in [0, 1] and a finite yaw, found {s.Gripper}, {s.EeYaw}");
            if (!BlockInsideWalls(sc, s.BlockX, s.BlockY, s.BlockYaw))
                throw new ArgumentException($"SimWorkcell.Restore: block ({s.BlockX}, {s.BlockY}, yaw {s.BlockYaw}) is not inside the walls");
            if (Overlap(sc, s.EeX, s.EeY, s.EeZ, s.BlockX, s.BlockY, s.BlockYaw) > ContactTolerance)
                throw new ArgumentException("SimWorkcell.Restore: effector and block overlap");
            (_x, _y, _z, _yaw, _gripper) = (s.EeX, s.EeY, s.EeZ, WrapAngle(s.EeYaw), s.Gripper);
            (_bx, _by, _byaw) = (s.BlockX, s.BlockY, WrapAngle(s.BlockYaw));
            _sequence = s.Sequence;
            Interlocked.Increment(ref _version);
        }
    }

    /// <summary>Scene, state and version read under one lock (what the renderer draws).</summary>
    internal void Read(out SimSceneOptions scene, out SimSnapshot snapshot, out long version)
    {
        lock (_gate)
        {
            scene = _scene;
            snapshot = SnapshotUnlocked();
            version = _version;
        }
    }

    /// <summary>
    /// How far the effector's disk reaches into the block's square, metres (negative: the gap between them), or
    /// negative infinity when the effector is at or above the block's top and cannot touch it.
    /// </summary>
    public static double Overlap(SimSceneOptions scene, double eeX, double eeY, double eeZ, double blockX, double blockY, double blockYaw) =>
        eeZ >= scene.BlockSize
            ? double.NegativeInfinity
            : Penetration(eeX, eeY, blockX, blockY, blockYaw, scene.BlockHalf, scene.EffectorRadius, out _, out _, out _, out _);

    private SimSnapshot SnapshotUnlocked() => new(_x, _y, _z, _yaw, _gripper, _bx, _by, _byaw, _sequence);

    private ArmState StateNow() => new(_x, _y, _z, 0, 0, _yaw, _gripper, MonotonicClock.Now, _sequence);

    /// <summary>Moves the effector to one substep target, pushing the block; false (nothing changed) when the block cannot give way.</summary>
    private bool TryStepTo(double x, double y, double z)
    {
        var sc = _scene;
        double a = sc.BlockHalf, r = sc.EffectorRadius, h = sc.BlockSize;
        // Coming down onto the block's top: rest on it instead of shoving the block out from underneath.
        if (z < h && _z >= h && Penetration(x, y, _bx, _by, _byaw, a, r, out _, out _, out _, out _) > 0) z = h;
        double bx = _bx, by = _by, byaw = _byaw;
        if (z < h)
        {
            PushBlock(sc, x, y, ref bx, ref by, ref byaw);
            if (Penetration(x, y, bx, by, byaw, a, r, out _, out _, out _, out _) > ContactTolerance) return false;
        }
        (_x, _y, _z, _bx, _by, _byaw) = (x, y, z, bx, by, byaw);
        return true;
    }

    /// <summary>Kinematic push: moves the block out of the disk at (px, py) along the contact normal, turning it for off-centre contact.</summary>
    private static void PushBlock(SimSceneOptions sc, double px, double py, ref double bx, ref double by, ref double byaw)
    {
        double a = sc.BlockHalf, r = sc.EffectorRadius;
        for (var i = 0; i < ResolveIterations; i++)
        {
            var depth = Penetration(px, py, bx, by, byaw, a, r, out var nx, out var ny, out var cx, out var cy);
            if (depth <= 0) return;
            var push = depth + ContactTolerance / 2;
            bx -= nx * push;
            by -= ny * push;
            if (i < SpinIterations && sc.PushSpin > 0)
            {
                // Torque of the push (direction -n) about the block's centre, contact at offset (cx, cy).
                var torque = cy * nx - cx * ny;
                byaw = WrapAngle(byaw + sc.PushSpin * torque * push / (a * a));
            }
            ClampBlockToWalls(sc, ref bx, ref by, byaw);
        }
    }

    /// <summary>
    /// Signed overlap of a disk (centre p, radius r) with a square (centre b, half size a, yaw): positive when they
    /// overlap. Outputs the unit normal from the block towards the disk and the contact point's offset from the
    /// block's centre, both in the world frame.
    /// </summary>
    internal static double Penetration(double px, double py, double bx, double by, double yaw, double a, double r,
        out double nx, out double ny, out double cx, out double cy)
    {
        var (s, c) = Math.SinCos(yaw);
        double dx = px - bx, dy = py - by;
        double qx = c * dx + s * dy, qy = -s * dx + c * dy; // disk centre in the block's frame
        double kx = Math.Clamp(qx, -a, a), ky = Math.Clamp(qy, -a, a);
        double lx, ly, depth;
        double ex = qx - kx, ey = qy - ky;
        var d2 = ex * ex + ey * ey;
        if (d2 > 0)
        {
            var d = Math.Sqrt(d2);
            (lx, ly, depth) = (ex / d, ey / d, r - d);
        }
        else
        {
            // Centre inside the square: leave through the nearest face.
            double fx = a - Math.Abs(qx), fy = a - Math.Abs(qy);
            if (fx <= fy)
            {
                lx = qx < 0 ? -1 : 1; ly = 0; depth = r + fx; kx = lx * a;
            }
            else
            {
                lx = 0; ly = qy < 0 ? -1 : 1; depth = r + fy; ky = ly * a;
            }
        }
        nx = c * lx - s * ly; ny = s * lx + c * ly;
        cx = c * kx - s * ky; cy = s * kx + c * ky;
        return depth;
    }

    /// <summary>Half the block's extent along x and y at this yaw.</summary>
    private static double HalfExtent(double a, double yaw)
    {
        var (s, c) = Math.SinCos(yaw);
        return a * (Math.Abs(c) + Math.Abs(s));
    }

    private static void ClampBlockToWalls(SimSceneOptions sc, ref double bx, ref double by, double byaw)
    {
        var e = HalfExtent(sc.BlockHalf, byaw);
        bx = Math.Clamp(bx, sc.XMin + e, sc.XMax - e);
        by = Math.Clamp(by, sc.YMin + e, sc.YMax - e);
    }

    private static bool BlockInsideWalls(SimSceneOptions sc, double bx, double by, double byaw)
    {
        if (!double.IsFinite(bx) || !double.IsFinite(by) || !double.IsFinite(byaw)) return false;
        var e = HalfExtent(sc.BlockHalf, byaw);
        return bx >= sc.XMin + e - ContactTolerance && bx <= sc.XMax - e + ContactTolerance &&
               by >= sc.YMin + e - ContactTolerance && by <= sc.YMax - e + ContactTolerance;
    }

    /// <summary>The block's initial pose: given components as they are, the others drawn from the seed (uniform, clear of the effector).</summary>
    private static (double X, double Y, double Yaw) PlaceBlock(SimSceneOptions sc)
    {
        var rng = new Random(sc.Seed);
        var yaw = WrapAngle(sc.BlockYaw ?? (rng.NextDouble() * 2 - 1) * Math.PI);
        var e = HalfExtent(sc.BlockHalf, yaw);
        const double clearance = 0.01; // a drawn block keeps this gap to the walls and the effector
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var x = sc.BlockX ?? Lerp(sc.XMin + e + clearance, sc.XMax - e - clearance, rng.NextDouble());
            var y = sc.BlockY ?? Lerp(sc.YMin + e + clearance, sc.YMax - e - clearance, rng.NextDouble());
            var drawn = sc.BlockX is null || sc.BlockY is null;
            var gap = drawn ? clearance : 0;
            if (!BlockInsideWalls(sc, x, y, yaw))
                throw new ArgumentException(
                    $"Sim scene block ({x}, {y}, yaw {yaw}): expected the block (half extent {e:0.####} m at this yaw) inside x [{sc.XMin}, {sc.XMax}], y [{sc.YMin}, {sc.YMax}]");
            if (Overlap(sc, sc.EeX, sc.EeY, sc.EeZ, x, y, yaw) <= -gap) return (x, y, yaw);
            if (!drawn)
                throw new ArgumentException($"Sim scene block ({x}, {y}, yaw {yaw}) overlaps the effector's start ({sc.EeX}, {sc.EeY}, {sc.EeZ})");
        }
        throw new ArgumentException($"Sim scene seed {sc.Seed}: found no block position clear of the effector in 1000 draws");
    }

    private static double Lerp(double lo, double hi, double t) => lo + (hi - lo) * t;

    internal static double WrapAngle(double angle) => Math.IEEERemainder(angle, 2 * Math.PI);
}
