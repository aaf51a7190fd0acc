using Microsoft.Extensions.Logging;
using RobotCtl.Core.Arm;
using RobotCtl.Core.Diagnostics;
using RobotCtl.Core.Timing;
using RobotCtl.Core.Vision;
using RobotCtl.Core.WorldModel;
using RobotCtl.Episodes;
using RobotCtl.Hardware.Safety;
using RobotCtl.Planning;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Runtime;

/// <summary>
/// The model-predictive control loop: capture -> preprocess -> encode -> (surprise, success) -> plan -> publish the
/// chunk to the command streamer -> record. Receding horizon: k of the H planned blocks are executed, then it
/// replans from a fresh frame, either after the chunk is executed (blocking) or while its tail is still running
/// (overlapped). Buffers are created once; a cycle allocates nothing on the control path.
/// <para>
/// Context history (<see cref="RuntimeComponents.ContextFrames"/> &gt; 1): the planner gets the current frame and the
/// frames exactly one action block before it, with the blocks the governor actually let out between them
/// (<see cref="ContextHistory"/>). Frames at the block boundaries inside a chunk are captured and encoded while the chunk
/// runs: in blocking replanning the streamer pauses at each boundary until the frame is taken; in overlapped replanning
/// they are taken on the fly and kept only where the execution log shows which actions they follow. After an e-stop or
/// pause, a camera gap, an unpublished plan or a surprise pause the history restarts from the next frame. With 1
/// context frame none of this runs: the loop is the single-frame loop it was.
/// </para>
/// </summary>
public sealed class ControlLoop
{
    private readonly RuntimeComponents _c;
    private readonly RuntimeOptions _options;
    private readonly SurpriseMonitor _surprise;
    private readonly ILogger _logger;
    private readonly SectionTimer _timer = new();
    private readonly Frame _frame;
    private readonly float[] _pixels, _latent, _predicted, _states;
    private readonly int[] _latentShape, _chunkShape;
    private readonly PlanResult _plan;
    private readonly int _blocksPerCycle, _actionsPerCycle;
    private bool _hasPrediction;
    private long _lastSequence = -1;

    // Context history (null / unused with one context frame).
    private readonly ContextHistory? _history;
    private readonly Frame? _boundaryFrame;
    private readonly float[] _boundaryLatent = [], _boundaryState = [];
    private readonly int _block;
    private PublishedChunk _chunk;

    public ControlLoop(RuntimeComponents components, RuntimeOptions options, SurpriseOptions surprise, ILogger logger)
    {
        _c = components;
        _options = options;
        _surprise = new SurpriseMonitor(surprise);
        _logger = logger;
        var spec = components.Model.Spec;
        _frame = new Frame(spec.Image.Width, spec.Image.Height);
        _pixels = new float[components.Preprocessor.OutputLength];
        _latent = new float[spec.LatentSize];
        _predicted = new float[spec.LatentSize];
        _states = new float[Math.Max(1, spec.StateDim)];
        _latentShape = spec.LatentShape;
        _plan = components.Planner.CreateResult();
        var horizon = components.Planner.Options.Horizon;
        _blocksPerCycle = options.BlocksPerCycle(spec.Planner.Receding, horizon);
        _actionsPerCycle = _blocksPerCycle * spec.ActionBlock;
        _chunkShape = [horizon * spec.ActionBlock, spec.ActionDim];
        _block = spec.ActionBlock;
        if (components.ContextFrames > 1)
        {
            if (components.ContextFrames > spec.History)
                throw new ArgumentException($"context frames: expected 1..{spec.History} (model '{spec.Name}' predictor.history), found {components.ContextFrames}");
            // Frames kept: a context reaches back ContextFrames - 1 blocks, and a cycle keeps up to one frame per block.
            _history = new ContextHistory(components.ContextFrames, spec.LatentSize, spec.StateDim, spec.ActionBlock, spec.ActionDim,
                capacity: components.ContextFrames * (_blocksPerCycle + 1) + 2);
            _boundaryFrame = new Frame(spec.Image.Width, spec.Image.Height);
            _boundaryLatent = new float[spec.LatentSize];
            _boundaryState = new float[spec.StateDim];
        }
        // Their episode events carry the step the loop is at.
        if (components.EStop is { } estop) estop.CurrentStep = () => Step;
        if (components.LinkMonitor is { } monitor) monitor.CurrentStep = () => Step;
        if (components.Pause is { } pause) pause.CurrentStep = () => Step;
    }

    public SectionTimer Timer => _timer;

    public int BlocksPerCycle => _blocksPerCycle;

    /// <summary>The frames, executed blocks and states the last plan got as context; null with one context frame.</summary>
    public ContextHistory? History => _history;

    /// <summary>Frames captured at block boundaries inside chunks (context history), and how many of them were kept.</summary>
    public long BoundaryFramesCaptured { get; private set; }

    /// <inheritdoc cref="BoundaryFramesCaptured"/>
    public long BoundaryFramesKept { get; private set; }

    /// <summary>
    /// An outside judge of the current goal (its index in the goal chain), checked every cycle right after the frame
    /// is captured (eval and the demo: the task's test on the simulator's true state). True for the last goal ends the
    /// run with <see cref="RunOutcome.Success"/>; for an earlier one (a sub-goal) the planner moves on to the next goal.
    /// When set, it replaces the latent-distance check against <see cref="RuntimeOptions.SuccessThreshold"/>. Must not
    /// allocate.
    /// </summary>
    public Func<int, bool>? ExternalSuccess { get; init; }

    /// <summary>Raised after every cycle (console progress).</summary>
    public event Action<CycleReport>? CycleCompleted;

    public int Step { get; private set; }

    /// <summary>
    /// The frame the last cycle planned from and its plan, for observers (the dashboard) to copy inside a
    /// <see cref="CycleCompleted"/> handler only: the loop reuses both buffers in its next cycle.
    /// </summary>
    public Frame LastFrame => _frame;

    /// <inheritdoc cref="LastFrame"/>
    public PlanResult LastPlan => _plan;

    /// <summary>Cycles that count as warm-up for <see cref="SteadyAllocatedBytes"/> (JIT, first buffers, first chunk).</summary>
    public const int WarmupCycles = 3;

    /// <summary>Managed bytes the loop thread allocated in its counted cycles after warm-up (console reporting excluded).</summary>
    public long SteadyAllocatedBytes { get; private set; }

    /// <summary>Most managed bytes any single counted cycle after warm-up allocated.</summary>
    public long MaxCycleAllocatedBytes { get; private set; }

    /// <summary>Cycles after warm-up whose allocations were counted.</summary>
    public int CountedCycles { get; private set; }

    /// <summary>
    /// Cycles after warm-up left out of the count: a GC ran inside them and the thread's counter read nonzero, which
    /// a GC's own bookkeeping can cause (<see cref="AllocationWindow"/>).
    /// </summary>
    public int UncertainCycles { get; private set; }

    public RunOutcome Run(CancellationToken cancellationToken)
    {
        var spec = _c.Model.Spec;
        var goals = _c.Goals;
        var goalIndex = 0;
        _c.Planner.SetGoal(goals.Latent(goalIndex));
        var period = _c.Streamer.Period;
        var chunkTicks = MonotonicClock.FromTimeSpan(period * _actionsPerCycle);
        var slackTicks = MonotonicClock.FromTimeSpan(TimeSpan.FromMilliseconds(_options.ChunkSlackMs));
        var maxAge = TimeSpan.FromMilliseconds(_options.MaxFrameAgeMs);
        var blocksExecuted = 0;
        var consecutiveFrameFailures = 0;
        WarmUpWaits(cancellationToken);

        for (Step = 0; Step < _options.MaxSteps; Step++)
        {
            if (cancellationToken.IsCancellationRequested) return Finish(RunOutcome.Cancelled, "cancelled");
            if (CheckLinkAndEStop(cancellationToken) is { } ended) return ended; // link loss, e-stop: before the cycle is timed
            var cycleStart = MonotonicClock.Now;
            var allocation = AllocationWindow.Open();
            _timer.BeginCycle();

            // Capture: a frame newer than the last one used, no older than MaxFrameAge.
            _timer.Start();
            var status = WaitForFrame(maxAge, _lastSequence, cancellationToken, _frame, _history is null ? 0 : LastDoneTicks());
            _timer.Stop(Section.Capture);
            if (status != FrameReadStatus.Ok)
            {
                if (cancellationToken.IsCancellationRequested) return Finish(RunOutcome.Cancelled, "cancelled");
                _c.Chunks.Clear();
                _c.Recorder?.RecordEvent(Step, EpisodeEventKind.Fault, $"camera {_c.Camera.Description}: {status}");
                _logger.LogWarning("step {Step}: no usable frame from {Camera} ({Status}); holding", Step, _c.Camera.Description, status);
                if (++consecutiveFrameFailures >= 3) return Finish(RunOutcome.Faulted, $"camera {_c.Camera.Description}: {status} three times in a row");
                RestartHistory(RestartReasons.CameraGap);
                Step--;
                continue;
            }
            consecutiveFrameFailures = 0;
            _lastSequence = _frame.Sequence;
            if (ExternalSuccess is { } judge && judge(goalIndex))
            {
                if (goalIndex + 1 >= goals.Count)
                {
                    _c.Chunks.Clear();
                    _c.Recorder?.RecordEvent(Step, EpisodeEventKind.GoalReached, $"goal {goalIndex + 1}/{goals.Count} reached (external check)");
                    return Finish(RunOutcome.Success, $"goal reached at step {Step} (external success check)");
                }
                // A sub-goal reached: plan toward the next goal of the chain from this frame on.
                _c.Recorder?.RecordEvent(Step, EpisodeEventKind.GoalReached, $"goal {goalIndex + 1}/{goals.Count} reached (external check)");
                goalIndex++;
                _c.Planner.SetGoal(goals.Latent(goalIndex));
                _c.Planner.ResetWarmStart();
            }

            _timer.Start();
            _c.Preprocessor.Process(_frame, _pixels);
            _timer.Stop(Section.Preprocess);

            _timer.Start();
            _c.Model.Encode(_pixels, 1, _latent);
            _timer.Stop(Section.Encode);
            if (!AllFinite(_latent)) return Finish(RunOutcome.Faulted, "the encoder produced a non-finite latent");

            // Surprise: what the model predicted for this moment versus what it sees.
            var surprise = double.NaN;
            var surpriseAction = SurpriseAction.None;
            if (_hasPrediction)
            {
                surprise = LatentDistance.MeanSquared(_predicted, _latent);
                surpriseAction = _surprise.Observe(surprise);
                _c.Recorder?.RecordSurprise(Step, (float)surprise);
                if (surpriseAction != SurpriseAction.None)
                {
                    _logger.LogWarning("step {Step}: surprise {Surprise:F4} is {Ratio:F1}x the baseline: {Action}", Step, surprise, _surprise.LastRatio, surpriseAction);
                    // Replan and pause drop the warm start (a decision replay repeats); stop ends the run.
                    _c.Recorder?.RecordEvent(Step, surpriseAction == SurpriseAction.Stop ? EpisodeEventKind.Note : EpisodeEventKind.WarmStartReset,
                        $"surprise {surprise:F4} ({_surprise.LastRatio:F1}x baseline): {surpriseAction}");
                }
                if (surpriseAction == SurpriseAction.Stop)
                {
                    _c.Chunks.Clear();
                    return Finish(RunOutcome.Stopped, $"surprise {surprise:F4} is {_surprise.LastRatio:F1}x the baseline");
                }
                if (surpriseAction == SurpriseAction.Pause)
                {
                    _c.Chunks.Clear();
                    if (cancellationToken.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(_c.SurpriseOptions.PauseMs))) return Finish(RunOutcome.Cancelled, "cancelled");
                    _c.Planner.ResetWarmStart();
                    _hasPrediction = false;
                    RestartHistory(RestartReasons.SurprisePause);
                    Step--;
                    continue;
                }
                if (surpriseAction == SurpriseAction.Replan) _c.Planner.ResetWarmStart();
            }

            // Success: close enough to the current goal; then the next sub-goal, or done.
            var goalDistance = LatentDistance.MeanSquared(_latent, goals.Latent(goalIndex));
            _c.Recorder?.RecordLatent(Step, LatentKind.Observed, _latent, _latentShape);
            if (ExternalSuccess is null && goalDistance <= _options.SuccessThreshold)
            {
                _c.Recorder?.RecordEvent(Step, EpisodeEventKind.GoalReached, $"goal {goalIndex + 1}/{goals.Count} reached (distance {goalDistance:F4})");
                if (++goalIndex >= goals.Count)
                {
                    _c.Chunks.Clear();
                    return Finish(RunOutcome.Success, $"goal reached at step {Step} (distance {goalDistance:F4} <= {_options.SuccessThreshold})");
                }
                _c.Planner.SetGoal(goals.Latent(goalIndex));
                _c.Planner.ResetWarmStart();
                goalDistance = LatentDistance.MeanSquared(_latent, goals.Latent(goalIndex));
            }

            // Plan from the current latent (and state, for models that take one).
            _timer.Start();
            var hasState = _c.Arm.TryGetLatestState(out var armState);
            if (spec.StateDim > 0)
            {
                if (!hasState) return Finish(RunOutcome.Faulted, "the model needs the arm state and the arm has reported none");
                armState.CopyPoseTo(_states);
            }
            var deadline = _c.PlannerDeadline is { } d ? MonotonicClock.Now + MonotonicClock.FromTimeSpan(d) : (long?)null;
            var input = _history is null
                ? new PlanInput(_latent)
                {
                    States = spec.StateDim > 0 ? _states.AsSpan(0, spec.StateDim) : default,
                    BlocksExecuted = blocksExecuted,
                    Seed = unchecked((ulong)(_options.Seed + Step)),
                    DeadlineTicks = deadline,
                }
                : HistoryInput(blocksExecuted, deadline);
            try
            {
                _c.Planner.Plan(input, _plan);
            }
            catch (WorldModelException e)
            {
                _c.Chunks.Clear();
                return Finish(RunOutcome.Faulted, e.Message);
            }
            var planMs = _timer.Stop(Section.Plan);

            // Publish: only a chunk of finite actions is ever handed to the streamer.
            _timer.Start();
            var published = _plan.Iterations > 0 && AllFinite(_plan.Actions);
            if (published)
            {
                _c.Chunks.ResetDrained();
                // Blocking replanning with a context history pauses the streamer at each block boundary of the chunk
                // until the loop has photographed it (the pause does not count against the chunk's validity).
                var pauseEvery = _history is not null && _options.ReplanMode == ReplanMode.Blocking && _blocksPerCycle > 1 ? _block : 0;
                _chunk = _c.Chunks.Publish(_plan.Actions, _actionsPerCycle, MonotonicClock.Now + chunkTicks + slackTicks, Step, _frame.CaptureTicks, pauseEvery);
                blocksExecuted = _blocksPerCycle;
                _hasPrediction = _c.Planner.TryPredictLatent(_latent, _plan, _blocksPerCycle, _predicted);
            }
            else
            {
                _c.Chunks.Clear();
                blocksExecuted = 0;
                _hasPrediction = false;
                _c.Recorder?.RecordEvent(Step, EpisodeEventKind.Fault, $"plan {Step} unusable (iterations {_plan.Iterations}, cost {_plan.FinalCost}); holding");
            }
            _timer.Stop(Section.Publish);

            _timer.Start();
            if (_c.Recorder is { } recorder)
            {
                recorder.RecordFrame(Step, _frame);
                if (_history is { Frames: > 0 } history)
                {
                    recorder.RecordPlanContext(Step, new PlanContextRecord
                    {
                        FrameSteps = history.FrameSteps, FrameBoundaries = history.FrameOffsets, Serials = history.FrameSerials,
                        LatentShape = _latentShape, Latents = history.Latents, PastActions = history.PastActions, States = history.States,
                        ActionBlock = history.ActionBlock, ActionDim = history.ActionDim, StateDim = spec.StateDim,
                    });
                }
                recorder.RecordPlan(Step, new PlanRecord
                {
                    Chunk = _plan.Actions,
                    ChunkShape = _chunkShape,
                    CostPerIteration = _plan.BestCostPerIteration,
                    Planner = _c.PlannerName,
                    SettingsJson = _c.PlannerSettingsJson,
                    Iterations = _plan.Iterations,
                    Seed = unchecked((long)_plan.Seed),
                    DeadlineMs = _c.PlannerDeadline?.TotalMilliseconds ?? 0,
                    ElapsedMs = planMs,
                    FinalCost = _plan.FinalCost,
                });
                if (_hasPrediction) recorder.RecordLatent(Step, LatentKind.Predicted, _predicted, _latentShape);
                if (hasState) recorder.RecordArmState(Step, armState);
            }
            _timer.Stop(Section.Record);
            // No chunk went out: the arm held for a whole cycle on a decision the episode shows as a fault; start over.
            if (!published) RestartHistory(RestartReasons.Unpublished);

            // Receding horizon: execute k blocks, then replan; overlapped replanning starts while the tail runs.
            if (published)
            {
                try
                {
                    WaitForExecution(period, cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // Interrupted while the chunk runs (Ctrl-C, SIGTERM): an outcome with its reason, not an exception.
                    _c.Chunks.Clear();
                    return Finish(RunOutcome.Cancelled, "cancelled");
                }
            }

            _timer.EndCycle();
            var t = _timer.Current;
            var cycleMs = MonotonicClock.ElapsedMs(cycleStart);
            _c.Recorder?.RecordTimings(Step, new StepTimings(t[0], t[1], t[2], t[3], t[4], t[5], cycleMs));
            if (Step >= WarmupCycles) CountAllocations(allocation);
            CycleCompleted?.Invoke(new CycleReport(Step, goalIndex, goals.Count, goalDistance, planMs, _plan.Iterations,
                _plan.StoppedByDeadline, _plan.FinalCost, surprise, _surprise.LastRatio, surpriseAction, cycleMs));
        }
        _c.Chunks.Clear();
        return Finish(RunOutcome.StepBudgetExhausted, $"goal not reached within {_options.MaxSteps} steps");
    }

    private void CountAllocations(AllocationWindow cycle)
    {
        if (cycle.Read() is not { } allocated)
        {
            UncertainCycles++;
            return;
        }
        CountedCycles++;
        SteadyAllocatedBytes += allocated;
        MaxCycleAllocatedBytes = Math.Max(MaxCycleAllocatedBytes, allocated);
        _timer.CommitAllocations();
    }

    /// <summary>
    /// The steady-state allocations in words: the total over how many cycles, where they happened (by section;
    /// "between sections" is the success check, surprise and the wait for execution) and the largest single cycle.
    /// </summary>
    public string AllocationReport()
    {
        if (CountedCycles + UncertainCycles == 0) return $"not measured: the run ended within its {WarmupCycles} warm-up cycles";
        var parts = new List<string>();
        long inSections = 0;
        foreach (var section in Enum.GetValues<Section>())
        {
            var bytes = _timer.AllocatedBytes(section);
            inSections += bytes;
            if (bytes != 0) parts.Add($"{section.ToString().ToLowerInvariant()} {bytes} B");
        }
        if (SteadyAllocatedBytes - inSections != 0) parts.Add($"between sections {SteadyAllocatedBytes - inSections} B");
        var where = parts.Count == 0 ? "" : $" ({string.Join(", ", parts)})";
        var uncertain = UncertainCycles == 0 ? ""
            : $"; {UncertainCycles} of {CountedCycles + UncertainCycles} cycles not counted (a GC ran inside them, so their count cannot be told from its bookkeeping)";
        return $"{SteadyAllocatedBytes} B in {CountedCycles} cycle(s) after {WarmupCycles} warm-up cycles{where}; " +
               $"max {MaxCycleAllocatedBytes} B in one cycle{uncertain}";
    }

    /// <summary>Why the last run ended, in words.</summary>
    public string OutcomeMessage { get; private set; } = "";

    private RunOutcome Finish(RunOutcome outcome, string message)
    {
        OutcomeMessage = message;
        // Only a stop or a fault is a fault; reaching the goal, spending the step budget or being interrupted is not.
        var kind = outcome is RunOutcome.Stopped or RunOutcome.Faulted ? EpisodeEventKind.Fault : EpisodeEventKind.Note;
        _c.Recorder?.RecordEvent(Step, kind, $"run ended: {outcome}: {message}");
        return outcome;
    }

    // ---- link loss and e-stop (issue 11) ----

    /// <summary>
    /// A silent arm link ends the run as a fault naming the link. A latched e-stop or an operator's pause parks the
    /// loop (no chunk: the streamer sends only holds) until released or resumed, or the run is cancelled, without
    /// spending the step budget; afterwards it replans from a fresh frame with no warm start. Allocates nothing while
    /// none of these happens.
    /// </summary>
    private RunOutcome? CheckLinkAndEStop(CancellationToken ct)
    {
        if (_c.LinkMonitor is { } link && link.IsLost(MonotonicClock.Now)) return LinkLost(link);
        if (!Parked) return null;
        _c.Chunks.Clear();
        IsParked = true;
        _logger.LogWarning("step {Step}: {Why}; holding", Step, _c.Governor.IsEStopped ? "e-stop latched (robotctl estop --release releases it)" : "paused");
        while (Parked)
        {
            if (ct.WaitHandle.WaitOne(50)) return Finish(RunOutcome.Cancelled, "cancelled while held");
            if (_c.LinkMonitor is { } l && l.IsLost(MonotonicClock.Now)) return LinkLost(l);
        }
        IsParked = false;
        _logger.LogInformation("step {Step}: released; replanning from a fresh frame", Step);
        // Recorded as a decision, so a replay drops the warm start at the same step.
        _c.Recorder?.RecordEvent(Step, EpisodeEventKind.WarmStartReset, "e-stop released or resumed: warm start dropped");
        _c.Planner.ResetWarmStart();
        _hasPrediction = false;
        // The chunk was dropped mid-way and the scene may have been changed by hand meanwhile.
        RestartHistory(RestartReasons.Parked);
        return null;
    }

    private bool Parked => _c.Governor.IsEStopped || _c.Pause?.IsPaused == true;

    /// <summary>Whether the loop is parked by an e-stop or a pause (it plans nothing until released or resumed).</summary>
    public bool IsParked { get => Volatile.Read(ref _parked); private set => Volatile.Write(ref _parked, value); }

    private bool _parked;

    private RunOutcome LinkLost(LinkMonitor link)
    {
        _c.Chunks.Clear();
        var message = link.LossMessage(MonotonicClock.Now);
        _logger.LogError("{Message}", message);
        link.RecordLoss(message);
        return Finish(RunOutcome.Faulted, message);
    }

    // ---- end link loss and e-stop ----

    /// <param name="notBeforeTicks">Context history: the frame must be captured after this (the last executed command had
    /// been sent); 0: any frame newer than <paramref name="lastSequence"/>.</param>
    private FrameReadStatus WaitForFrame(TimeSpan maxAge, long lastSequence, CancellationToken ct, Frame frame, long notBeforeTicks)
    {
        var giveUp = MonotonicClock.Now + MonotonicClock.FromTimeSpan(TimeSpan.FromMilliseconds(_options.FrameWaitMs));
        var status = FrameReadStatus.NoFrame;
        while (!ct.IsCancellationRequested)
        {
            status = _c.Camera.ReadLatest(maxAge, frame);
            // A frame captured before the last command executed would show the past: wait for a newer one.
            if (status == FrameReadStatus.Ok && frame.Sequence > lastSequence && (notBeforeTicks == 0 || frame.CaptureTicks > notBeforeTicks)) return status;
            if (status is FrameReadStatus.Failed or FrameReadStatus.Frozen && MonotonicClock.Now > giveUp) return status;
            if (MonotonicClock.Now > giveUp) return status == FrameReadStatus.Ok ? FrameReadStatus.Stale : status;
            Thread.Sleep(1);
        }
        return status;
    }

    /// <summary>
    /// The runtime sets up a thread's wait machinery on its first blocking wait (~2 KB managed, measured on .NET 10) and
    /// a token's wait handle on first use. Whether a warm-up cycle happens to block depends on timing, so block once
    /// here (1 ms each) rather than let a steady cycle pay for it.
    /// </summary>
    private static void WarmUpWaits(CancellationToken ct)
    {
        using var probe = new SemaphoreSlim(0, 1);
        probe.Wait(TimeSpan.FromMilliseconds(1));
        ct.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(1));
    }

    private void WaitForExecution(TimeSpan period, CancellationToken ct)
    {
        if (_options.ReplanMode == ReplanMode.Blocking)
        {
            if (_history is not null) CollectBoundaryFrames(period, lead: 0, ct);
            _c.Chunks.WaitDrained(period * (_actionsPerCycle + 2) + TimeSpan.FromMilliseconds(_options.ChunkSlackMs), ct);
            var drained = MonotonicClock.Now;
            // The drain is signalled when the last action is taken, before it is sent: wait for the streamer to finish
            // a tick after it, so the arm has every command before the next frame is judged or planned from.
            // Bounded by the chunk's slack as well: a streamer starved of CPU for a few periods still delivers, and a
            // frame read before it has would show the arm short of its last command.
            var ticks = _c.Streamer.Ticks;
            var giveUp = drained + MonotonicClock.FromTimeSpan(period * 3 + TimeSpan.FromMilliseconds(_options.ChunkSlackMs));
            while (_c.Streamer.Ticks == ticks && MonotonicClock.Now < giveUp && !ct.IsCancellationRequested) Thread.Sleep(1);
            // Let the last command take effect and a frame showing it be captured: one period after the drain in all.
            var rest = period - MonotonicClock.Elapsed(drained);
            if (rest > TimeSpan.Zero) ct.WaitHandle.WaitOne(rest);
            return;
        }
        // Overlapped: start the next plan when the remaining actions last about as long as the last plan took.
        var lead = (int)Math.Ceiling(_timer.Percentile(Section.Plan, 90) / period.TotalMilliseconds) + 1;
        if (_history is not null) CollectBoundaryFrames(period, lead, ct);
        while (!ct.IsCancellationRequested && _c.Chunks.Remaining > lead) Thread.Sleep(1);
    }

    // ---- context history (issue 16) ----

    /// <summary>Why the history restarts (constant strings: the episode event allocates nothing else).</summary>
    private static class RestartReasons
    {
        public const string CameraGap = "context history restarted: camera gap (no usable frame)";
        public const string SurprisePause = "context history restarted: surprise pause";
        public const string Parked = "context history restarted: e-stop released or operator resumed";
        public const string Unpublished = "context history restarted: plan not published (the arm held)";
    }

    private void RestartHistory(string reason)
    {
        if (_history is null) return;
        _history.Restart(reason);
        _c.Recorder?.RecordEvent(Step, EpisodeEventKind.Note, reason);
    }

    /// <summary>When the last executed command had been sent (0: none yet): a context frame must be newer.</summary>
    private long LastDoneTicks() => _c.Chunks.TryGetTimes(_c.Chunks.Completed, out _, out var done) ? done : 0;

    /// <summary>Keeps the current frame in the history and builds the plan's input from the context it closes.</summary>
    private PlanInput HistoryInput(int blocksExecuted, long? deadline)
    {
        var h = _history!;
        var stateDim = _c.Model.Spec.StateDim;
        h.Add(_c.Chunks.SerialAt(_frame.CaptureTicks), Step, 0, _latent, _states.AsSpan(0, stateDim));
        h.Build(_c.Chunks);
        return new PlanInput(h.Latents)
        {
            PastActions = h.PastActions,
            States = stateDim > 0 ? h.States : default,
            BlocksExecuted = blocksExecuted,
            Seed = unchecked((ulong)(_options.Seed + Step)),
            DeadlineTicks = deadline,
        };
    }

    /// <summary>
    /// Captures, encodes and keeps a frame at each block boundary inside the running chunk, on the grid of the frame the
    /// next plan will start from (blocking: the chunk's end; overlapped: <paramref name="lead"/> actions before it). Each
    /// waits for the boundary's last action to have been sent and takes a frame captured after it. Blocking: the streamer
    /// is paused there until the frame is taken (after one command period, to let the command take effect), so the frame
    /// shows exactly the actions up to the boundary. Overlapped: the streamer runs on; the frame is kept under the serial
    /// the execution log says it shows, which links into a context only when it is exactly on a boundary. Stops when the
    /// chunk is replaced, cleared or expires, or (overlapped) when it is time to plan. Allocates nothing (a failed frame
    /// read records an event).
    /// </summary>
    private void CollectBoundaryFrames(TimeSpan period, int lead, CancellationToken ct)
    {
        var chunk = _chunk;
        var gated = _options.ReplanMode == ReplanMode.Blocking;
        try
        {
            var next = _actionsPerCycle - lead; // chunk offset of the next plan's frame
            for (var offset = next - (next - 1) / _block * _block; offset < next; offset += _block)
            {
                if (offset <= 0) continue;
                var serial = chunk.FirstSerial - 1 + offset;
                if (!WaitForAction(serial, chunk.Generation, gated ? -1 : lead, period, ct)) return;
                CaptureBoundaryFrame(serial, offset, chunk.Generation, gated, period, ct);
            }
        }
        finally
        {
            // Never leave the streamer paused: a boundary that was not photographed is a gap in the history, not a stop.
            if (gated) _c.Chunks.Release(chunk.Generation, MonotonicClock.Now, all: true);
        }
    }

    /// <summary>
    /// Waits until the action with <paramref name="serial"/> has been sent; false when the chunk was replaced or cleared,
    /// ended before it, (overlapped, <paramref name="lead"/> >= 0) it is time to plan, or the wait outlasts the block.
    /// </summary>
    private bool WaitForAction(long serial, long generation, int lead, TimeSpan period, CancellationToken ct)
    {
        var giveUp = MonotonicClock.Now + MonotonicClock.FromTimeSpan(period * (_block + 2) + TimeSpan.FromMilliseconds(_options.ChunkSlackMs));
        while (!ct.IsCancellationRequested)
        {
            if (_c.Chunks.Completed >= serial) return true;
            if (_c.Chunks.Generation != generation) return false;
            var remaining = _c.Chunks.Remaining;
            if (remaining == 0 && _c.Chunks.Taken < serial) return false; // ran out or expired short of it
            if (lead >= 0 && remaining <= lead) return false;
            if (MonotonicClock.Now > giveUp) return false;
            Thread.Sleep(1);
        }
        return false;
    }

    private void CaptureBoundaryFrame(long serial, int offset, long generation, bool gated, TimeSpan period, CancellationToken ct)
    {
        if (!_c.Chunks.TryGetTimes(serial, out var taken, out var done)) return;
        if (gated)
        {
            // As at the end of a chunk: let the boundary's last command take effect before the scene is photographed.
            var rest = period - MonotonicClock.Elapsed(taken);
            if (rest > TimeSpan.Zero && ct.WaitHandle.WaitOne(rest)) return;
        }
        var frame = _boundaryFrame!;
        var status = WaitForFrame(TimeSpan.FromMilliseconds(_options.MaxFrameAgeMs), _lastSequence, ct, frame, done);
        var spec = _c.Model.Spec;
        var hasState = spec.StateDim == 0 || _c.Arm.TryGetLatestState(out var state) && CopyPose(state);
        // The arm goes on while the frame is encoded.
        if (gated) _c.Chunks.Release(generation, MonotonicClock.Now);
        if (status != FrameReadStatus.Ok)
        {
            if (!ct.IsCancellationRequested)
                _c.Recorder?.RecordEvent(Step, EpisodeEventKind.Fault, $"camera {_c.Camera.Description}: {status} at block boundary {offset} of step {Step}; the context history has a gap there");
            return;
        }
        _lastSequence = frame.Sequence;
        BoundaryFramesCaptured++;
        var shows = _c.Chunks.SerialAt(frame.CaptureTicks);
        _c.Preprocessor.Process(frame, _pixels);
        _c.Model.Encode(_pixels, 1, _boundaryLatent);
        if (!AllFinite(_boundaryLatent))
        {
            _c.Recorder?.RecordEvent(Step, EpisodeEventKind.Fault, $"the encoder produced a non-finite latent for block boundary {offset} of step {Step}; not kept");
            return;
        }
        var keep = shows >= 0 && hasState;
        if (keep)
        {
            _history!.Add(shows, Step, offset, _boundaryLatent, _boundaryState);
            BoundaryFramesKept++;
        }
        _c.Recorder?.RecordBoundaryFrame(Step, offset, keep ? shows : -1, frame, _boundaryLatent, _latentShape, _boundaryState);
    }

    private bool CopyPose(in ArmState state)
    {
        state.CopyPoseTo(_boundaryState);
        return true;
    }

    // ---- end context history ----

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (var v in values) if (!float.IsFinite(v)) return false;
        return true;
    }
}
