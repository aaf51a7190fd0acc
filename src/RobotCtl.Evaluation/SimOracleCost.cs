using RobotCtl.Core.Arm;
using RobotCtl.Planning;
using RobotCtl.Sim;
using RobotCtl.Sim.Tasks;

namespace RobotCtl.Evaluation;

/// <summary>
/// The oracle's cost: each candidate chunk is executed on a private copy of the simulator, started from the live
/// workcell's TRUE state taken when the plan begins, one low-level command at a time (mapped to the robot frame as
/// the streamer would), and after every block the task's state distance to the goal state is weighted by the cost
/// shape and summed. Distances (squared metres):
/// reach = |effector xy - goal effector xy|^2;
/// push = |block xy - goal block xy|^2 + <see cref="PushEffectorWeight"/> x |effector xy - goal effector xy|^2
/// (the small effector term breaks ties once the block is placed and draws the pusher toward where the goal image
/// shows it, without competing with the block term that success is judged on).
/// One scratch workcell per thread, reused: scoring allocates nothing. Candidates are split over up to two threads
/// (each candidate is independent, so the costs do not depend on the split).
/// </summary>
public sealed unsafe class SimOracleCost : IActionCost, IDisposable
{
    /// <summary>Weight of the effector's squared distance to its goal position in the push cost.</summary>
    public const double PushEffectorWeight = 0.1;

    private readonly SimWorkcell _world;
    private readonly SimTaskKind _task;
    private readonly SimSnapshot _goal;
    private readonly int _horizon, _block, _dim;
    private readonly float[] _weights;
    private readonly ActionMapping _mapping;
    private readonly SimWorkcell[] _scratch;
    private readonly Thread? _worker;
    private readonly SemaphoreSlim _go = new(0), _done = new(0);
    private SimSceneOptions? _scene;
    private SimSnapshot _start;
    private float* _jobCandidates;
    private float* _jobCosts;
    private int _jobFrom, _jobTo;
    private Exception? _workerFailure;
    private volatile bool _stopping;

    /// <param name="world">The live workcell the run acts on (read at the start of each plan, never changed).</param>
    /// <param name="goal">The goal state (what the goal image shows).</param>
    /// <param name="stepWeights">One weight per horizon step (<see cref="PlannerOptions.StepWeights"/>).</param>
    /// <param name="threads">1 or 2.</param>
    public SimOracleCost(SimWorkcell world, SimTaskKind task, SimSnapshot goal, int horizon, int block, int dim,
        float[] stepWeights, ActionMapping mapping, int threads = 2)
    {
        ArgumentNullException.ThrowIfNull(world);
        ArgumentNullException.ThrowIfNull(stepWeights);
        ArgumentNullException.ThrowIfNull(mapping);
        if (dim != EeCommand.Dim) throw new ArgumentException($"oracle: expected {EeCommand.Dim}-D actions (the workcell's end-effector commands), found {dim}");
        if (horizon < 1 || block < 1) throw new ArgumentException($"oracle: expected horizon and block >= 1, found {horizon} and {block}");
        if (stepWeights.Length != horizon) throw new ArgumentException($"oracle: expected {horizon} step weights, found {stepWeights.Length}");
        if (threads is < 1 or > 2) throw new ArgumentOutOfRangeException(nameof(threads), threads, "oracle: expected 1 or 2 threads");
        _world = world; _task = task; _goal = goal; _horizon = horizon; _block = block; _dim = dim;
        _weights = (float[])stepWeights.Clone();
        _mapping = mapping;
        _scratch = new SimWorkcell[threads];
        for (var i = 0; i < threads; i++) _scratch[i] = new SimWorkcell(world.Scene);
        _scene = world.Scene;
        if (threads == 2)
        {
            _worker = new Thread(WorkerLoop) { IsBackground = true, Name = "robotctl-oracle" };
            _worker.Start();
        }
    }

    /// <summary>The task's state distance (squared metres) of <paramref name="state"/> to <paramref name="goal"/>.</summary>
    public static double Distance(SimTaskKind task, in SimSnapshot state, in SimSnapshot goal)
    {
        double ex = state.EeX - goal.EeX, ey = state.EeY - goal.EeY;
        var effector = ex * ex + ey * ey;
        if (task == SimTaskKind.Reach) return effector;
        double bx = state.BlockX - goal.BlockX, by = state.BlockY - goal.BlockY;
        return bx * bx + by * by + PushEffectorWeight * effector;
    }

    public void BeginPlan(in PlanInput input)
    {
        _start = _world.Snapshot();
        var scene = _world.Scene;
        if (!ReferenceEquals(scene, _scene))
        {
            // A reset of the live workcell to another scene (not within an eval episode): follow it, once.
            foreach (var cell in _scratch) cell.Reset(scene);
            _scene = scene;
        }
    }

    public void Evaluate(ReadOnlySpan<float> candidates, Span<float> costs)
    {
        var n = costs.Length;
        var size = _horizon * _block * _dim;
        if (candidates.Length != n * size)
            throw new ArgumentException($"oracle: expected {n} candidates of {size} values, found {candidates.Length} values");
        fixed (float* c = candidates)
        fixed (float* k = costs)
        {
            if (_worker is null || n < 2)
            {
                Score(c, k, 0, n, _scratch[0]);
                return;
            }
            // The worker takes the second half on its own scratch workcell; this thread the first.
            var half = n / 2;
            _jobCandidates = c;
            _jobCosts = k;
            _jobFrom = half;
            _jobTo = n;
            _go.Release();
            try
            {
                Score(c, k, 0, half, _scratch[0]);
            }
            finally
            {
                _done.Wait();
                _jobCandidates = null;
                _jobCosts = null;
            }
            if (_workerFailure is { } failure)
            {
                _workerFailure = null;
                throw new InvalidOperationException($"oracle: scoring on the second thread failed: {failure.Message}", failure);
            }
        }
    }

    private void Score(float* candidates, float* costs, int from, int to, SimWorkcell cell)
    {
        var size = _horizon * _block * _dim;
        for (var c = from; c < to; c++)
        {
            cell.Restore(_start);
            var actions = new ReadOnlySpan<float>(candidates + (long)c * size, size);
            double cost = 0;
            for (var h = 0; h < _horizon; h++)
            {
                for (var j = 0; j < _block; j++)
                {
                    var command = _mapping.ToRobot(actions.Slice((h * _block + j) * _dim, _dim));
                    cell.Apply(command);
                }
                if (_weights[h] != 0) cost += _weights[h] * Distance(_task, cell.Snapshot(), _goal);
            }
            costs[c] = (float)cost;
        }
    }

    private void WorkerLoop()
    {
        while (true)
        {
            _go.Wait();
            if (_stopping) return;
            try
            {
                Score(_jobCandidates, _jobCosts, _jobFrom, _jobTo, _scratch[1]);
            }
            catch (Exception e)
            {
                _workerFailure = e;
            }
            finally
            {
                _done.Release();
            }
        }
    }

    public void Dispose()
    {
        if (_worker is not null && !_stopping)
        {
            _stopping = true;
            _go.Release();
            _worker.Join();
        }
        _go.Dispose();
        _done.Dispose();
    }
}
