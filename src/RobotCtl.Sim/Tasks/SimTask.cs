namespace RobotCtl.Sim.Tasks;

/// <summary>
/// A goal-reaching task on the default workcell (docs/EVALUATION.md, "Tasks"): how its episodes are drawn, how
/// many commands an attempt gets, and when it counts as a success. Episodes are a pure function of
/// (seed, index, task), so an evaluation can be rerun or split across processes.
/// </summary>
public abstract class SimTask
{
    /// <summary>Every task works at this effector height: below the block's top (0.08 m), so the effector pushes.</summary>
    public const double EffectorHeight = 0.02;

    /// <summary>Metres per command per axis (calibration/default/limits.json maxStep).</summary>
    public const double MaxStep = 0.02;

    private const int MaxDraws = 100_000;

    private static readonly SimTask[] All = [new ReachTask(), new PushTask()];

    // The task set is closed: definitions live here and in docs/EVALUATION.md together.
    private protected SimTask()
    {
    }

    public static IReadOnlyList<string> Names { get; } = Array.AsReadOnly(All.Select(t => t.Name).ToArray());

    /// <summary>The task called <paramref name="name"/> (case-insensitive); <see cref="ArgumentException"/> listing the known names otherwise.</summary>
    public static SimTask Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var t in All)
            if (string.Equals(t.Name, name.Trim(), StringComparison.OrdinalIgnoreCase)) return t;
        throw new ArgumentException($"unknown task '{name}' (known: {string.Join(", ", Names)})", nameof(name));
    }

    public abstract string Name { get; }
    public abstract SimTaskKind Kind { get; }

    /// <summary>Low-level control steps (commands) an attempt may take.</summary>
    public abstract int StepBudget { get; }

    /// <summary>Success radius, metres (see <see cref="ErrorMetres"/>).</summary>
    public abstract double SuccessRadius { get; }

    /// <summary>The default scene every task starts from (bounds, block size, effector radius).</summary>
    protected static SimSceneOptions BaseScene => SimSceneOptions.Default;

    /// <summary>
    /// Draws episode <paramref name="index"/> of <paramref name="seed"/>: deterministic in (seed, index), and
    /// independent of every other index (each has its own generator). The result is checked against the workcell
    /// (start scene and goal state are both valid).
    /// </summary>
    public SimTaskEpisode Sample(int seed, int index)
    {
        if (index < 0) throw new ArgumentOutOfRangeException(nameof(index), index, $"task '{Name}' episode index: expected >= 0");
        var rng = new Random(MixSeed(seed, index, Kind));
        for (var draw = 0; draw < MaxDraws; draw++)
        {
            if (TryDraw(rng, seed, index) is not { } episode) continue;
            // The workcell is the judge of validity: the scene must validate and the goal must be a restorable state.
            var cell = new SimWorkcell(episode.Scene);
            cell.Restore(episode.Goal);
            return episode;
        }
        throw new InvalidOperationException($"task '{Name}' seed {seed} index {index}: found no valid episode in {MaxDraws} draws");
    }

    /// <summary>One rejection-sampling draw: an episode meeting every constraint, or null to draw again.</summary>
    protected abstract SimTaskEpisode? TryDraw(Random rng, int seed, int index);

    public abstract bool IsSuccess(in SimSnapshot state, SimTaskEpisode episode);

    /// <summary>reach: effector xy to the target; push: block centre to the target. Metres.</summary>
    public abstract double ErrorMetres(in SimSnapshot state, SimTaskEpisode episode);

    /// <summary>
    /// push: |wrapped block yaw - target yaw| modulo the square's quarter-turn symmetry, in [0, pi/4]; reach: null
    /// (the block's pose is not part of the goal).
    /// </summary>
    public virtual double? YawErrorRadians(in SimSnapshot state, SimTaskEpisode episode) => null;

    /// <summary>
    /// An intermediate goal state that splits the episode into two easier legs, or null when the task has none (reach)
    /// or this episode's cannot be placed. Push: the pre-push pose, the block untouched and the effector behind it
    /// opposite the push direction, where the straight push to the target starts.
    /// </summary>
    public virtual SimSnapshot? SubGoal(SimTaskEpisode episode) => null;

    /// <summary>True when <paramref name="state"/> has reached <see cref="SubGoal"/> (effector xy within <see cref="SubGoalRadius"/>).</summary>
    public bool IsSubGoalReached(in SimSnapshot state, SimTaskEpisode episode)
    {
        if (SubGoal(episode) is not { } g) return false;
        double dx = state.EeX - g.EeX, dy = state.EeY - g.EeY;
        return Math.Sqrt(dx * dx + dy * dy) <= SubGoalRadius;
    }

    /// <summary>How close the effector must come to a sub-goal's pose before the next goal takes over, metres.</summary>
    public const double SubGoalRadius = 0.02;

    /// <summary>A start or goal snapshot of the default pose conventions: effector at <see cref="EffectorHeight"/>, yaw 0, gripper open.</summary>
    protected static SimSnapshot State(double eeX, double eeY, double blockX, double blockY, double blockYaw) =>
        new(eeX, eeY, EffectorHeight, 0, 0, blockX, blockY, blockYaw, 0);

    protected static SimSceneOptions StartScene(int seed, double eeX, double eeY, double blockX, double blockY, double blockYaw) =>
        BaseScene with
        {
            Seed = seed, BlockX = blockX, BlockY = blockY, BlockYaw = blockYaw,
            EeX = eeX, EeY = eeY, EeZ = EffectorHeight, EeYaw = 0, Gripper = 0,
        };

    /// <summary>Gap between the effector's disk (at the task height) and the block, metres; negative when they overlap.</summary>
    protected static double Gap(double eeX, double eeY, double blockX, double blockY, double blockYaw) =>
        -SimWorkcell.Overlap(BaseScene, eeX, eeY, EffectorHeight, blockX, blockY, blockYaw);

    /// <summary>Half the block's axis-aligned extent at this yaw.</summary>
    protected static double HalfExtent(double yaw)
    {
        var (s, c) = Math.SinCos(yaw);
        return BaseScene.BlockHalf * (Math.Abs(c) + Math.Abs(s));
    }

    /// <summary>The block's half width along the unit direction (ux, uy) at this yaw (its support distance).</summary>
    protected static double HalfExtentAlong(double yaw, double ux, double uy)
    {
        var (s, c) = Math.SinCos(yaw);
        return BaseScene.BlockHalf * (Math.Abs(c * ux + s * uy) + Math.Abs(-s * ux + c * uy));
    }

    protected static double Uniform(Random rng, double lo, double hi) => lo + (hi - lo) * rng.NextDouble();

    protected static double UniformAngle(Random rng) => (rng.NextDouble() * 2 - 1) * Math.PI;

    /// <summary>The episode's generator seed: stable across processes (see <see cref="SeedMix"/>).</summary>
    internal static int MixSeed(int seed, int index, SimTaskKind kind) => SeedMix.Of(0x5EED_7A5C_0000_0000UL ^ (ulong)(uint)kind, seed, index);

    private sealed class ReachTask : SimTask
    {
        private const double WallClearance = 0.03;
        private const double BlockClearance = 0.01;
        private const double MinDistance = 0.10;

        public override string Name => "reach";
        public override SimTaskKind Kind => SimTaskKind.Reach;
        public override int StepBudget => 80;
        public override double SuccessRadius => 0.015;

        protected override SimTaskEpisode? TryDraw(Random rng, int seed, int index)
        {
            var sc = BaseScene;
            var yaw = UniformAngle(rng);
            var e = HalfExtent(yaw) + WallClearance;
            var bx = Uniform(rng, sc.XMin + e, sc.XMax - e);
            var by = Uniform(rng, sc.YMin + e, sc.YMax - e);
            var (lx, ly, _) = sc.EffectorMin;
            var (hx, hy, _) = sc.EffectorMax;
            double ex, ey, tx, ty;
            var draws = 0;
            do
            {
                if (++draws > 1000) return null;
                ex = Uniform(rng, lx, hx);
                ey = Uniform(rng, ly, hy);
            } while (Gap(ex, ey, bx, by, yaw) < BlockClearance);
            draws = 0;
            do
            {
                if (++draws > 1000) return null;
                tx = Uniform(rng, lx, hx);
                ty = Uniform(rng, ly, hy);
            } while (Gap(tx, ty, bx, by, yaw) < BlockClearance || Math.Sqrt((tx - ex) * (tx - ex) + (ty - ey) * (ty - ey)) < MinDistance);
            return new SimTaskEpisode(SimTaskKind.Reach, seed, index, StartScene(seed, ex, ey, bx, by, yaw),
                State(tx, ty, bx, by, yaw), tx, ty, yaw);
        }

        public override double ErrorMetres(in SimSnapshot state, SimTaskEpisode episode) =>
            Math.Sqrt((state.EeX - episode.TargetX) * (state.EeX - episode.TargetX) + (state.EeY - episode.TargetY) * (state.EeY - episode.TargetY));

        public override bool IsSuccess(in SimSnapshot state, SimTaskEpisode episode) => ErrorMetres(state, episode) <= SuccessRadius;
    }

    private sealed class PushTask : SimTask
    {
        private const double StartHalfRange = 0.17;
        private const double MinDistance = 0.05;
        private const double MaxDistance = 0.12;
        private const double WallClearance = 0.03;
        private const double EffectorClearance = 0.03;
        private const double GoalEffectorGap = 0.01;

        public override string Name => "push";
        public override SimTaskKind Kind => SimTaskKind.Push;
        public override int StepBudget => 150;
        public override double SuccessRadius => 0.02;

        protected override SimTaskEpisode? TryDraw(Random rng, int seed, int index)
        {
            var sc = BaseScene;
            // Rejection over the whole (start, yaw, direction, distance) tuple keeps it uniform over the valid set.
            var bx = Uniform(rng, -StartHalfRange, StartHalfRange);
            var by = Uniform(rng, -StartHalfRange, StartHalfRange);
            var yaw = UniformAngle(rng);
            var (uy, ux) = Math.SinCos(UniformAngle(rng));
            var distance = Uniform(rng, MinDistance, MaxDistance);
            double tx = bx + distance * ux, ty = by + distance * uy;
            var e = HalfExtent(yaw) + WallClearance;
            if (tx < sc.XMin + e || tx > sc.XMax - e || ty < sc.YMin + e || ty > sc.YMax - e) return null;

            var (lx, ly, _) = sc.EffectorMin;
            var (hx, hy, _) = sc.EffectorMax;
            // Out of the way: behind the block's target along the push, where a pusher would have ended up.
            var back = HalfExtentAlong(yaw, ux, uy) + sc.EffectorRadius + GoalEffectorGap;
            var gx = Math.Clamp(tx - ux * back, lx, hx);
            var gy = Math.Clamp(ty - uy * back, ly, hy);
            // Clamping near a wall can pull it back onto the block; such draws are rejected.
            if (Gap(gx, gy, tx, ty, yaw) < SimWorkcell.ContactTolerance) return null;

            double ex, ey;
            var draws = 0;
            do
            {
                if (++draws > 1000) return null;
                ex = Uniform(rng, lx, hx);
                ey = Uniform(rng, ly, hy);
            } while (Gap(ex, ey, bx, by, yaw) < EffectorClearance);
            return new SimTaskEpisode(SimTaskKind.Push, seed, index, StartScene(seed, ex, ey, bx, by, yaw),
                State(gx, gy, tx, ty, yaw), tx, ty, yaw);
        }

        public override double ErrorMetres(in SimSnapshot state, SimTaskEpisode episode) =>
            Math.Sqrt((state.BlockX - episode.TargetX) * (state.BlockX - episode.TargetX) + (state.BlockY - episode.TargetY) * (state.BlockY - episode.TargetY));

        public override bool IsSuccess(in SimSnapshot state, SimTaskEpisode episode) => ErrorMetres(state, episode) <= SuccessRadius;

        public override SimSnapshot? SubGoal(SimTaskEpisode episode)
        {
            var sc = BaseScene;
            double bx = episode.Scene.BlockX!.Value, by = episode.Scene.BlockY!.Value, yaw = episode.Scene.BlockYaw!.Value;
            double ux = episode.TargetX - bx, uy = episode.TargetY - by;
            var length = Math.Sqrt(ux * ux + uy * uy);
            ux /= length; uy /= length;
            var back = HalfExtentAlong(yaw, ux, uy) + sc.EffectorRadius + GoalEffectorGap;
            var (lx, ly, _) = sc.EffectorMin;
            var (hx, hy, _) = sc.EffectorMax;
            var px = Math.Clamp(bx - ux * back, lx, hx);
            var py = Math.Clamp(by - uy * back, ly, hy);
            // Against a wall the pre-push pose may not fit behind the block: no sub-goal then.
            return Gap(px, py, bx, by, yaw) < SimWorkcell.ContactTolerance ? null : State(px, py, bx, by, yaw);
        }

        public override double? YawErrorRadians(in SimSnapshot state, SimTaskEpisode episode)
        {
            var d = SimWorkcell.WrapAngle(state.BlockYaw - episode.TargetYaw);
            // A square looks the same every quarter turn: fold into [-pi/4, pi/4].
            return Math.Abs(Math.IEEERemainder(d, Math.PI / 2));
        }
    }
}
