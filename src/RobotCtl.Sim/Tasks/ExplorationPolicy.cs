using RobotCtl.Core.Arm;

namespace RobotCtl.Sim.Tasks;

/// <summary>
/// Goal-free policies that drive the workcell to collect world-model training data: they cover the table and make
/// contact with the block. Commands move only in x and y (dz, droll, dpitch, dyaw and gripper are always 0: the
/// planner searches dx, dy only), at most <see cref="SimTask.MaxStep"/> per axis. One instance drives one episode;
/// it is deterministic in its seed and the states it is shown. Not thread-safe.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>random-walk</c>: a velocity random walk with momentum, v = 0.85 v + N(0, 6 mm) per axis, clipped per axis
/// to MaxStep; a component that would carry the effector out of its reachable box is reversed (bounce).</item>
/// <item><c>push</c>: picks a push direction u (uniform, among those whose start point is reachable) and a length of
/// 5..20 steps; drives to the point behind the block for u (going round the block's side when it is in the way);
/// then pushes through the block's current centre with angular noise for that many steps; then picks again. An
/// approach that takes more than 40 steps is abandoned and a new direction picked.</item>
/// <item><c>mixed</c>: switches mid-episode: segments of 20..50 steps, each driven by random-walk (40 %) or push
/// (60 %), so one episode holds free motion and pushes from varied block poses.</item>
/// </list>
/// </remarks>
public abstract class ExplorationPolicy
{
    private static readonly string[] PolicyNames = ["random-walk", "push", "mixed"];

    public static IReadOnlyList<string> Names { get; } = Array.AsReadOnly(PolicyNames);

    private protected ExplorationPolicy(int seed, SimSceneOptions? scene)
    {
        Scene = scene ?? SimSceneOptions.Default;
        Rng = new Random(seed);
    }

    /// <summary>
    /// The policy called <paramref name="name"/> (case-insensitive), seeded with <paramref name="seed"/>, for the
    /// table of <paramref name="scene"/> (default scene when null). Unknown names: <see cref="ArgumentException"/> listing the known ones.
    /// </summary>
    public static ExplorationPolicy Create(string name, int seed, SimSceneOptions? scene = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "random-walk" => new RandomWalkPolicy(seed, scene),
            "push" => new PushPolicy(seed, scene),
            "mixed" => new MixedPolicy(seed, scene),
            _ => throw new ArgumentException($"unknown exploration policy '{name}' (known: {string.Join(", ", Names)})", nameof(name)),
        };
    }

    public abstract string Name { get; }

    /// <summary>The next command for the workcell in <paramref name="state"/>.</summary>
    public abstract EeCommand Next(in SimSnapshot state);

    protected SimSceneOptions Scene { get; }

    protected Random Rng { get; }

    protected double Gaussian() => StandardNormal(Rng);

    /// <summary>One standard normal from <paramref name="rng"/> (Box-Muller, two draws); collect's planner policy draws its noise so too.</summary>
    public static double StandardNormal(Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        // 1 - u keeps the logarithm's argument in (0, 1].
        var u = 1.0 - rng.NextDouble();
        var v = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v);
    }

    protected static double ClipStep(double v) => Math.Clamp(v, -SimTask.MaxStep, SimTask.MaxStep);

    /// <summary>A command that moves dx, dy only, each clipped to <see cref="SimTask.MaxStep"/>: what every collect policy sends.</summary>
    public static EeCommand Planar(double dx, double dy) => new((float)ClipStep(dx), (float)ClipStep(dy), 0, 0, 0, 0, 0);

    /// <summary>Continue from the last command sent (used when <c>mixed</c> hands over to this policy).</summary>
    internal virtual void TakeOver(in EeCommand last)
    {
    }

    private sealed class RandomWalkPolicy(int seed, SimSceneOptions? scene) : ExplorationPolicy(seed, scene)
    {
        private const double Momentum = 0.85;
        private const double NoiseStd = 0.006;
        private double _vx, _vy;

        public override string Name => "random-walk";

        public override EeCommand Next(in SimSnapshot state)
        {
            _vx = ClipStep(Momentum * _vx + NoiseStd * Gaussian());
            _vy = ClipStep(Momentum * _vy + NoiseStd * Gaussian());
            var (lx, ly, _) = Scene.EffectorMin;
            var (hx, hy, _) = Scene.EffectorMax;
            if (state.EeX + _vx > hx || state.EeX + _vx < lx) _vx = -_vx;
            if (state.EeY + _vy > hy || state.EeY + _vy < ly) _vy = -_vy;
            return Planar(_vx, _vy);
        }

        internal override void TakeOver(in EeCommand last) => (_vx, _vy) = (last.Dx, last.Dy);
    }

    private sealed class PushPolicy(int seed, SimSceneOptions? scene) : ExplorationPolicy(seed, scene)
    {
        private const double ApproachGap = 0.01;   // behind the block, between disk and face, before a push
        private const double SideGap = 0.012;      // clearance when going round the block
        private const double ArrivedWithin = 0.006;
        private const int MaxApproachSteps = 40;
        private const double ApproachNoiseStd = 0.002;
        private const double PushAngleStd = 0.15;  // radians of aim noise per push step

        private enum Phase { Pick, Approach, Push }

        private Phase _phase = Phase.Pick;
        private double _ux, _uy;
        private int _pushLeft, _approachSteps;

        public override string Name => "push";

        public override EeCommand Next(in SimSnapshot state)
        {
            if (_phase == Phase.Pick) Pick(state);
            if (_phase == Phase.Approach)
            {
                if (++_approachSteps > MaxApproachSteps) Pick(state);
                var (px, py) = PushStart(state);
                if (Math.Abs(state.EeX - px) < ArrivedWithin && Math.Abs(state.EeY - py) < ArrivedWithin) _phase = Phase.Push;
                else return Approach(state, px, py);
            }
            // Push: aim through the block's current centre, so the block goes roughly straight and the disk stays on it.
            var angle = Math.Atan2(state.BlockY - state.EeY, state.BlockX - state.EeX) + PushAngleStd * Gaussian();
            var speed = SimTask.MaxStep * (0.6 + 0.4 * Rng.NextDouble());
            if (--_pushLeft <= 0) _phase = Phase.Pick;
            return Planar(speed * Math.Cos(angle), speed * Math.Sin(angle));
        }

        internal override void TakeOver(in EeCommand last) => _phase = Phase.Pick;

        private void Pick(in SimSnapshot state)
        {
            var (lx, ly, _) = Scene.EffectorMin;
            var (hx, hy, _) = Scene.EffectorMax;
            // A direction whose push start is reachable (near a wall, pushing into it is not); give up after a few draws.
            for (var attempt = 0; attempt < 16; attempt++)
            {
                (_uy, _ux) = Math.SinCos((Rng.NextDouble() * 2 - 1) * Math.PI);
                var (px, py) = PushStart(state);
                if (px >= lx && px <= hx && py >= ly && py <= hy) break;
            }
            _pushLeft = Rng.Next(5, 21);
            _approachSteps = 0;
            _phase = Phase.Approach;
        }

        /// <summary>Behind the block along u: its half width along u, the disk radius and a gap back from its centre.</summary>
        private (double X, double Y) PushStart(in SimSnapshot s)
        {
            var back = Support(s.BlockYaw, _ux, _uy) + Scene.EffectorRadius + ApproachGap;
            return (s.BlockX - _ux * back, s.BlockY - _uy * back);
        }

        private double Support(double yaw, double ux, double uy)
        {
            var (sin, cos) = Math.SinCos(yaw);
            return Scene.BlockHalf * (Math.Abs(cos * ux + sin * uy) + Math.Abs(-sin * ux + cos * uy));
        }

        /// <summary>
        /// One step towards the push start. When the block is between, go round it: first sideways to a lane clear of
        /// it, then back along that lane past its rear face, then across behind it.
        /// </summary>
        private EeCommand Approach(in SimSnapshot s, double px, double py)
        {
            double rx = s.EeX - s.BlockX, ry = s.EeY - s.BlockY;
            var along = rx * _ux + ry * _uy;                 // + in front of the block (the side it is pushed to)
            double nx = -_uy, ny = _ux;
            var lateral = rx * nx + ry * ny;
            if (lateral < 0) (nx, ny, lateral) = (-nx, -ny, -lateral);
            var r = Scene.EffectorRadius;
            var clear = Scene.BlockHalf * Math.Sqrt(2) + r + SideGap; // any yaw
            var back = Support(s.BlockYaw, _ux, _uy) + r + ApproachGap;
            double tx, ty;
            if (along <= -back + 1e-3 || (lateral >= clear && along <= -back + 0.005))
                (tx, ty) = (px, py);                          // behind (or in the lane and past the rear): straight there
            else if (lateral >= clear - 0.004)
                (tx, ty) = (s.BlockX + nx * clear - _ux * back, s.BlockY + ny * clear - _uy * back); // down the lane
            else
                (tx, ty) = (s.BlockX + nx * clear + _ux * Math.Max(along, 0), s.BlockY + ny * clear + _uy * Math.Max(along, 0)); // sideways out
            var (lx, ly, _) = Scene.EffectorMin;
            var (hx, hy, _) = Scene.EffectorMax;
            tx = Math.Clamp(tx, lx, hx);
            ty = Math.Clamp(ty, ly, hy);
            return Planar(ClipStep(tx - s.EeX) + ApproachNoiseStd * Gaussian(), ClipStep(ty - s.EeY) + ApproachNoiseStd * Gaussian());
        }
    }

    private sealed class MixedPolicy : ExplorationPolicy
    {
        private const double RandomWalkShare = 0.4;
        private readonly ExplorationPolicy _walk, _push;
        private ExplorationPolicy _current;
        private int _segmentLeft;
        private EeCommand _last;

        public MixedPolicy(int seed, SimSceneOptions? scene) : base(seed, scene)
        {
            // Each part has its own stream, so the switching draws do not shift the parts' noise.
            _walk = new RandomWalkPolicy(SeedMix.Of(0xA11C_E000UL, seed, 1), scene);
            _push = new PushPolicy(SeedMix.Of(0xA11C_E000UL, seed, 2), scene);
            _current = _walk;
        }

        public override string Name => "mixed";

        public override EeCommand Next(in SimSnapshot state)
        {
            if (_segmentLeft-- <= 0)
            {
                var next = Rng.NextDouble() < RandomWalkShare ? _walk : _push;
                if (!ReferenceEquals(next, _current) || _last == default) next.TakeOver(_last);
                _current = next;
                _segmentLeft = Rng.Next(20, 51) - 1;
            }
            return _last = _current.Next(state);
        }
    }
}
