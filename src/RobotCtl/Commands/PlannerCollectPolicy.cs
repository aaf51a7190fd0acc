using RobotCtl.Core.Arm;
using RobotCtl.Core.Vision;
using RobotCtl.Core.WorldModel;
using RobotCtl.Inference.WorldModel;
using RobotCtl.Planning;
using RobotCtl.Runtime.Composition;
using RobotCtl.Sim.Tasks;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Host.Commands;

/// <summary>
/// `collect --policy planner`: the world model's own planner drives the workcell toward the episode's goal image, as
/// `run` and `eval` do (the same encoder, history and CEM), with exploration noise on top, so the data holds what the
/// exploration policies never show: the planner's own candidates near contact and near its goals, where a model that
/// plans well must predict well (docs/EVALUATION.md, "On-policy data"). Every <c>block</c> steps the current frame is
/// encoded and kept with the block executed since; the plan starts from the last <c>history</c> frames; its first
/// block is executed command by command, each with the block's noise offset added (one Gaussian per block and
/// searched axis, std <c>noise</c> x MaxStep) and clipped to MaxStep. Recorded actions are what was applied. One
/// instance per worker: it owns an ONNX Runtime session and a planner. Not thread-safe.
/// </summary>
internal sealed class PlannerCollectPolicy : IDisposable
{
    private readonly OnnxWorldModel _model;
    private readonly Preprocessor _preprocessor;
    private readonly LatentPlanner _planner;
    private readonly ActionMapping _mapping;
    private readonly WorldModelSpec _spec;
    private readonly double _noise;
    private readonly int _frames, _block, _dim;
    private readonly float[] _pixels, _latent, _goal, _latents, _past, _executed, _offset;
    private readonly bool[] _searched;
    private readonly PlanResult _plan;
    private Random _rng = new(0);
    private ulong _seed;
    private int _kept, _queued, _episodePlans;

    public PlannerCollectPolicy(RuntimeFactory factory, double noise)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _model = factory.LoadModel();
        try
        {
            _spec = _model.Spec;
            if (_spec.ActionDim != EeCommand.Dim)
                throw new ArgumentException($"--model: '{_spec.Name}' has action.dim {_spec.ActionDim}; the workcell takes {EeCommand.Dim}-D end-effector commands");
            if (_spec.StateDim > 0)
                throw new ArgumentException($"--model: '{_spec.Name}' takes arm states; collect --policy planner drives image-only models");
            _preprocessor = factory.CreatePreprocessor(_spec);
            _planner = factory.CreatePlanner(_model, factory.PlannerOptions(_spec));
        }
        catch
        {
            _model.Dispose();
            throw;
        }
        _mapping = factory.Rig.Mapping;
        ModelDirectory = Path.GetFullPath(factory.ModelDirectory);
        _noise = noise;
        _frames = factory.ContextFrames(_spec);
        _block = _spec.ActionBlock;
        _dim = _spec.ActionDim;
        _pixels = new float[_preprocessor.OutputLength];
        _latent = new float[_spec.LatentSize];
        _goal = new float[_spec.LatentSize];
        _latents = new float[_frames * _spec.LatentSize];
        _past = new float[Math.Max(_frames - 1, 0) * _block * _dim];
        _executed = new float[_block * _dim];
        _offset = new float[_dim];
        _searched = [.. _spec.ActionSearch];
        _plan = _planner.CreateResult();
    }

    /// <summary>The model that plans (recorded in each episode's configuration).</summary>
    public string ModelDirectory { get; }

    /// <summary>Planner samples x iterations x horizon, for the progress line.</summary>
    public string Describe()
    {
        var o = _planner.Options;
        return $"{_spec.Name}: {o.Solver.ToString().ToLowerInvariant()} {o.Samples} x {o.Iterations} x horizon {o.Horizon}, {_frames} context frame(s), noise {_noise:0.##} x MaxStep per block";
    }

    /// <summary>Starts an episode toward <paramref name="goalFrame"/>: forgets the history and the warm start.</summary>
    public void BeginEpisode(Frame goalFrame, int seed)
    {
        PlanContext.Encode(_preprocessor, _model, goalFrame, _pixels, _goal, "the goal image");
        _planner.SetGoal(_goal);
        _planner.ResetWarmStart();
        _rng = new Random(seed);
        _seed = unchecked((ulong)(uint)seed << 20);
        _kept = 0;
        _queued = 0;
        _episodePlans = 0;
    }

    /// <summary>The next command for the workcell, whose current view is <paramref name="frame"/> (rendered at this step).</summary>
    public EeCommand Next(Frame frame)
    {
        if (_queued == 0) PlanBlock(frame);
        var k = _block - _queued;
        _queued--;
        Span<float> action = stackalloc float[_dim];
        _plan.Actions.AsSpan(k * _dim, _dim).CopyTo(action);
        for (var d = 0; d < _dim; d++)
        {
            action[d] = _searched[d] ? action[d] + _offset[d] : 0f;
            if (!float.IsFinite(action[d])) action[d] = 0f; // never sent: a non-finite plan holds still
        }
        var robot = _mapping.ToRobot(action);
        var command = ExplorationPolicy.Planar(robot.Dx, robot.Dy);
        _mapping.ToModel(command, _executed.AsSpan(k * _dim, _dim));
        return command;
    }

    private void PlanBlock(Frame frame)
    {
        // Keep the frame with the block executed since the last one (the context the loop builds, oldest first).
        var l = _spec.LatentSize;
        var blockSize = _block * _dim;
        if (_kept == _frames)
        {
            _latents.AsSpan(l).CopyTo(_latents);
            if (_past.Length > 0)
            {
                _past.AsSpan(blockSize).CopyTo(_past);
            }
            _kept--;
        }
        PlanContext.Encode(_preprocessor, _model, frame, _pixels, _latent, "the frame");
        _latent.CopyTo(_latents.AsSpan(_kept * l, l));
        if (_kept > 0) _executed.CopyTo(_past.AsSpan((_kept - 1) * blockSize, blockSize));
        _kept++;

        _planner.Plan(new PlanInput(_latents.AsSpan(0, _kept * l))
        {
            PastActions = _past.AsSpan(0, (_kept - 1) * blockSize),
            BlocksExecuted = 1, // the warm start shifts by the block just executed (ignored on the episode's first plan)
            Seed = _seed + (ulong)_episodePlans++,
        }, _plan);
        for (var d = 0; d < _dim; d++) _offset[d] = _searched[d] ? (float)(ExplorationPolicy.StandardNormal(_rng) * _noise * SimTask.MaxStep) : 0f;
        if (_plan.Iterations == 0) Array.Clear(_plan.Actions); // nothing planned: hold (with noise) rather than replay stale actions
        _queued = _block;
    }

    public void Dispose()
    {
        _planner.Dispose();
        _preprocessor.Dispose();
        _model.Dispose();
    }
}
