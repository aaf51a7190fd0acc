using RobotCtl.Core.WorldModel;

namespace RobotCtl.Planning.Tests;

/// <summary>The cost shape reaching the rollout cost, and the planners other than the latent one behind <see cref="IPlanner"/>.</summary>
public class CostShapeAndPlannerSeamTests
{
    private static readonly float[] Mean = [0.002f, -0.001f, 0f, 0f, 0f, 0f, 0.1f];
    private static readonly float[] Std = [0.01f, 0.01f, 0.01f, 0.1f, 0.1f, 0.1f, 0.5f];
    private static readonly bool[] Search = [true, true, true, false, false, false, true];
    private static readonly ActionBounds Limits = new([0.01f, 0.01f, 0.01f, 0.05f, 0.05f, 0.05f, 0.5f]);
    private static readonly WorldModelSpec Spec = Analytic.Spec("object-push", [2], block: 5, history: 3, Mean, Std, Search);

    /// <summary>
    /// The planner's cost of the all-zero normalised chunk (std 0: every sample is the mean). Physically that is the
    /// dataset mean (dx 0.002, dy -0.001 per step), so the object moves by (1, -0.5) px per block from (8, 10).
    /// </summary>
    private static float CostOfMean(CostShape shape, float[]? latentWeights = null, LatentCost? cost = null)
    {
        var model = new ObjectPushModel(Spec);
        using var planner = new LatentPlanner(model, new PlannerOptions
        {
            Samples = 2, TopK = 1, Iterations = 1, InitStd = 0, CostShape = shape, LatentWeights = latentWeights, Cost = cost,
        }, Limits);
        planner.SetGoal([20f, 16f]);
        return planner.Plan(new PlanInput([8f, 10f])).FinalCost;
    }

    /// <summary>Squared distance to the goal (20, 16) after block k (0-based) of the mean chunk.</summary>
    private static double Step(int k) => Math.Pow(8 + (k + 1) - 20, 2) + Math.Pow(10 - 0.5 * (k + 1) - 16, 2);

    [Fact]
    public void Last_sum_and_weights_weight_the_per_step_latent_distances()
    {
        Assert.Equal(Step(4), CostOfMean(CostShape.Last), 1e-3);
        Assert.Equal(Enumerable.Range(0, 5).Sum(Step), CostOfMean(CostShape.Sum), 1e-3);
        Assert.Equal(Step(0) + 3 * Step(4), CostOfMean(CostShape.FromWeights([1, 0, 0, 0, 3])), 1e-3);
        Assert.NotEqual(CostOfMean(CostShape.Last), CostOfMean(CostShape.Sum));
    }

    [Fact]
    public void Latent_weights_weight_each_dimension_of_the_distance()
    {
        // After the last block the object is at (13, 7.5): 7 px short of the goal in x, 8.5 in y.
        Assert.Equal(4 * 7.0 * 7 + 0.25 * 8.5 * 8.5, CostOfMean(CostShape.Last, [4f, 0.25f]), 1e-3);
        // A shorter list weighs the first dimensions only; the rest weigh 1.
        Assert.Equal(0 * 7.0 * 7 + 8.5 * 8.5, CostOfMean(CostShape.Last, [0f]), 1e-3);
        // l1 is the mean of the weighted magnitudes.
        Assert.Equal((4 * 7.0 + 0.25 * 8.5) / 2, CostOfMean(CostShape.Last, [4f, 0.25f], LatentCost.L1), 1e-3);
        Assert.Equal((7.0 + 8.5) / 2, CostOfMean(CostShape.Last, cost: LatentCost.L1), 1e-3);
    }

    [Theory]
    [InlineData(new float[] { 1, 1, 1 }, "expected at most 2 weights (the latent's size), found 3")]
    [InlineData(new float[] { 0, 0 }, "at least one weight > 0")]
    [InlineData(new float[] { 1, float.NaN }, "[1]: expected a finite weight >= 0, found NaN")]
    public void Latent_weights_that_do_not_fit_the_model_are_refused_before_planning(float[] weights, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => new LatentPlanner(new ObjectPushModel(Spec), new PlannerOptions { LatentWeights = weights }, Limits));
        Assert.Contains("model 'object-push': planner latent weights", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData("1, 1,4,4", new float[] { 1, 1, 4, 4 })]
    [InlineData("0.5", new float[] { 0.5f })]
    public void Latent_weights_parse_and_print_back(string text, float[] weights)
    {
        Assert.Equal(weights, LatentWeights.Parse(text));
        Assert.Equal(weights, LatentWeights.Parse(LatentWeights.Format(LatentWeights.Parse(text))));
    }

    [Theory]
    [InlineData("")]
    [InlineData("1,x")]
    [InlineData("1,-2")]
    [InlineData("Infinity")]
    public void Bad_latent_weights_are_refused_saying_what_was_found(string text) =>
        Assert.Contains($"found '{text}'", Assert.Throws<FormatException>(() => LatentWeights.Parse(text)).Message);

    [Fact]
    public void The_manifest_cost_shape_is_the_default_and_the_options_can_override_it()
    {
        var spec = Spec with { Planner = Spec.Planner with { CostShape = CostShape.Sum } };
        Assert.Equal(CostShapeKind.Sum, PlannerOptions.ForModel(spec).CostShape.Kind);
        Assert.Equal(CostShapeKind.Last, PlannerOptions.ForModel(Spec).CostShape.Kind);
        Assert.Equal([0f, 0f, 1f], (PlannerOptions.ForModel(Spec) with { Horizon = 3 }).StepWeights());
        Assert.Equal([1f, 1f, 1f], (PlannerOptions.ForModel(spec) with { Horizon = 3 }).StepWeights());
    }

    [Theory]
    [InlineData("last", "last")]
    [InlineData(" SUM ", "sum")]
    [InlineData("0, 0.5,1,2", "0,0.5,1,2")]
    public void Cost_shapes_parse_and_print_back(string text, string printed) => Assert.Equal(printed, CostShape.Parse(text).ToString());

    [Theory]
    [InlineData("", "expected last, sum or comma-separated weights")]
    [InlineData("first", "expected last, sum or comma-separated weights")]
    [InlineData("1,x", "found '1,x'")]
    [InlineData("1,-1", "weight 2: expected a finite value >= 0, found -1")]
    [InlineData("0,0", "at least one weight > 0")]
    [InlineData("1,NaN", "weight 2: expected a finite value >= 0, found NaN")]
    public void Bad_cost_shapes_are_refused_saying_what_was_expected(string text, string message) =>
        Assert.Contains(message, Assert.Throws<FormatException>(() => CostShape.Parse(text)).Message);

    [Fact]
    public void Weights_of_another_length_than_the_horizon_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => CostShape.FromWeights([1, 2]).Resolve(3));
        Assert.Contains("expected 3 weights (one per horizon step), found 2", e.Message);
    }

    /// <summary>An external cost: squared distance of the summed dx, dy to a target (every step weighted like the planner's).</summary>
    private sealed class DisplacementCost(float targetX, float targetY, int horizonSteps) : IActionCost
    {
        public int Plans;
        public float MaxAbs;
        public bool HeldExactlyZero = true;

        public void BeginPlan(in PlanInput input) => Plans++;

        public void Evaluate(ReadOnlySpan<float> candidates, Span<float> costs)
        {
            var size = candidates.Length / costs.Length;
            for (var c = 0; c < costs.Length; c++)
            {
                var a = candidates.Slice(c * size, size);
                float x = 0, y = 0;
                for (var s = 0; s < horizonSteps; s++)
                {
                    x += a[s * 7]; y += a[s * 7 + 1];
                    for (var d = 0; d < 7; d++)
                    {
                        MaxAbs = Math.Max(MaxAbs, Math.Abs(a[s * 7 + d]) / Limits.MaxStep[d]);
                        if (!Search[d] && a[s * 7 + d] != 0f) HeldExactlyZero = false;
                    }
                }
                costs[c] = (x - targetX) * (x - targetX) + (y - targetY) * (y - targetY);
            }
        }
    }

    [Fact]
    public void The_external_cost_planner_searches_the_same_bounded_box_in_physical_units()
    {
        var cost = new DisplacementCost(0.1f, -0.05f, 25);
        IPlanner planner = new ExternalCostPlanner(Spec, new PlannerOptions { Samples = 64, TopK = 8, Iterations = 12, Seed = 3 }, Limits, cost);
        using (planner)
        {
            var plan = planner.Plan(new PlanInput([0f, 0f]));
            double x = 0, y = 0;
            for (var s = 0; s < plan.Steps; s++) { x += plan.Action(s)[0]; y += plan.Action(s)[1]; }
            Assert.Equal(0.1, x, 0.01);
            Assert.Equal(-0.05, y, 0.01);
            Assert.Equal(1, cost.Plans);
            Assert.True(cost.MaxAbs <= 1f + 1e-6f, $"a scored action left the limits: {cost.MaxAbs} x the limit");
            Assert.True(cost.HeldExactlyZero);
            Assert.False(planner.TryPredictLatent([0f, 0f], plan, 1, new float[2]));
            Assert.Equal(12, plan.Iterations);
        }
    }

    [Fact]
    public void The_random_planner_draws_within_the_limits_from_the_seed()
    {
        using var planner = new RandomPlanner(Spec, new PlannerOptions(), Limits);
        var a = planner.Plan(new PlanInput([0f, 0f]) { Seed = 5 }).Actions;
        var b = planner.Plan(new PlanInput([0f, 0f]) { Seed = 5 }).Actions;
        var c = planner.Plan(new PlanInput([0f, 0f]) { Seed = 6 }).Actions;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        for (var v = 0; v < a.Length; v++)
        {
            var d = v % 7;
            if (Search[d]) Assert.InRange(a[v], -Limits.MaxStep[d], Limits.MaxStep[d]);
            else Assert.Equal(0f, a[v]);
        }
        // Spread over the box, not stuck at a corner: both signs on dx.
        Assert.Contains(a.Where((_, v) => v % 7 == 0), x => x > 0.005f);
        Assert.Contains(a.Where((_, v) => v % 7 == 0), x => x < -0.005f);
        Assert.Contains("needs a finite per-step limit", Assert.Throws<ArgumentException>(() => new RandomPlanner(Spec, new PlannerOptions(), ActionBounds.Unbounded(7))).Message);
    }

    [Fact]
    public void The_seam_planners_allocate_nothing_per_plan_after_warm_up()
    {
        var cost = new DisplacementCost(0.1f, -0.05f, 25);
        using var external = new ExternalCostPlanner(Spec, new PlannerOptions { Samples = 32, TopK = 4, Iterations = 3 }, Limits, cost);
        using var random = new RandomPlanner(Spec, new PlannerOptions(), Limits);
        foreach (IPlanner planner in new IPlanner[] { external, random })
        {
            var result = planner.CreateResult();
            float[] latent = [0f, 0f]; // made before measuring: only the plan's own allocations count
            planner.WarmUp(new PlanInput(latent));
            planner.Plan(new PlanInput(latent), result);
            planner.Plan(new PlanInput(latent) { BlocksExecuted = 1 }, result);
            Assert.Equal(0, Allocations.Of(() => planner.Plan(new PlanInput(latent) { BlocksExecuted = 1 }, result)));
        }
    }
}
