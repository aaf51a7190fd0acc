using RobotCtl.Core.WorldModel;

namespace RobotCtl.Planning.Tests;

/// <summary>Planner:RolloutThreads: the candidates split into shards, each predicted on its own thread.</summary>
public class RolloutThreadsTests
{
    private static readonly float[] Mean = [0, 0, 0, 0, 0, 0, 0];
    private static readonly float[] Std = [0.01f, 0.01f, 0.01f, 0.1f, 0.1f, 0.1f, 0.5f];
    private static readonly bool[] Search = [true, true, true, false, false, false, true];
    private static readonly ActionBounds Limits = new([0.01f, 0.01f, 0.01f, 0.05f, 0.05f, 0.05f, 0.5f]);

    // Momentum makes each prediction depend on the whole window, so a shard that got another's rows would show.
    private static ObjectPushModel Model() => new(Analytic.Spec("object-push", [2], block: 5, history: 3, Mean, Std, Search), momentum: 0.5f);

    private static PlannerOptions Options(int threads) =>
        new() { Samples = 64, TopK = 8, Iterations = 4, Horizon = 4, Seed = 7, RolloutThreads = threads };

    // Three context frames 5 px apart with the two blocks executed between them (physical, dx 0.01 per action).
    private static readonly float[] Context = [4, 20, 9, 20, 14, 20];
    private static readonly float[] Executed = Enumerable.Range(0, 2 * 35).Select(i => i % 7 == 0 ? 0.01f : 0f).ToArray();

    private static PlanResult Plan(IWorldModel model, int threads)
    {
        using var planner = new LatentPlanner(model, Options(threads), Limits);
        planner.SetGoal([26f, 12f]);
        return planner.Plan(new PlanInput(Context) { PastActions = Executed });
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]   // 64 candidates in shards of 21, 21 and 22
    public void Shards_plan_exactly_what_one_call_for_all_candidates_plans(int threads)
    {
        var one = Plan(Model(), 1);
        var sharded = Plan(Model(), threads);
        Assert.Equal(one.Actions.Select(BitConverter.SingleToInt32Bits), sharded.Actions.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(one.BestCostPerIteration.ToArray(), sharded.BestCostPerIteration.ToArray());
        Assert.True(one.FinalCost < one.BestCostPerIteration[0], "the plan improved on its first iteration");
    }

    [Fact]
    public void A_sharded_plan_allocates_nothing_after_warm_up_and_predicts_on_every_shard_thread()
    {
        var model = Model();
        var threads = new HashSet<string?>();
        model.OnPredict = () => { lock (threads) threads.Add(Thread.CurrentThread.Name); };
        using var planner = new LatentPlanner(model, Options(3), Limits);
        planner.SetGoal([26f, 12f]);
        var input = new PlanInput(Context) { PastActions = Executed };
        planner.WarmUp(input);
        var result = planner.CreateResult();
        planner.Plan(input, result);
        Assert.Equal(3, threads.Count);                    // the planning thread and the two shard threads
        Assert.Contains("rollout shard 2", threads);
        // Slow shard threads make the planning thread block, not only spin, while it waits for them: a wait that blocks
        // for the first time after warm-up must not allocate either (CountdownEvent's did: 24 B, once, under load).
        model.OnPredict = () =>
        {
            if (Thread.CurrentThread.Name?.StartsWith("rollout shard", StringComparison.Ordinal) == true) Thread.Sleep(20);
        };
        Assert.Equal(0, Allocations.Of(() => planner.Plan(new PlanInput(Context) { PastActions = Executed }, result)));
    }

    [Fact]
    public void A_shard_that_fails_fails_the_plan_with_its_own_exception_and_the_planner_still_closes()
    {
        var model = Model();
        model.OnPredict = () =>
        {
            if (Thread.CurrentThread.Name == "rollout shard 1") throw new WorldModelException("predictor failed on shard 1");
        };
        var planner = new LatentPlanner(model, Options(2), Limits);
        planner.SetGoal([26f, 12f]);
        var e = Assert.Throws<WorldModelException>(() => planner.Plan(new PlanInput(Context) { PastActions = Executed }));
        Assert.Equal("predictor failed on shard 1", e.Message);
        model.OnPredict = null;
        Assert.True(float.IsFinite(planner.Plan(new PlanInput(Context) { PastActions = Executed }).FinalCost));
        planner.Dispose();                                   // joins the shard threads
    }

    [Fact]
    public void Rollout_threads_out_of_range_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => (Options(0) with { }).Validate());
        Assert.Contains("RolloutThreads: expected 1..256, found 0", e.Message);
    }
}
