using RobotCtl.Core.Arm;
using RobotCtl.Core.WorldModel;

namespace RobotCtl.Planning.Tests;

/// <summary>Actions in an imported checkpoint's own units (its action dims only) mapped onto the model's 7-D layout.</summary>
public class CheckpointActionsTests
{
    private static WorldModelSpec Spec(int[]? dims) => Analytic.Spec("ckpt", [2], block: 2, history: 3,
        mean: [0.1f, 0.5f, 0, 0, 0, 0.5f, 0], std: [2, 1, 1, 1, 1, 4, 1], search: [true, false, false, false, false, true, false]) with
    {
        CheckpointActionDims = dims,
    };

    [Fact]
    public void Checkpoint_dims_are_placed_on_their_axes_and_the_others_held_at_the_normalised_zero()
    {
        var spec = Spec([5, 0]); // the checkpoint's (dyaw, dx)
        var normalised = new float[2 * 7];

        CheckpointActions.Expand(spec, [1f, 2f, 3f, 4f], normalised);

        Assert.Equal(4, spec.CheckpointBlockSize);
        // Mapped axes take the values as given; the others the normalised value of a physical zero, -mean/std (-0.5 on dy).
        Assert.Equal([2f, -0.5f, 0, 0, 0, 1f, 0, 4f, -0.5f, 0, 0, 0, 3f, 0], normalised);
    }

    [Fact]
    public void Without_checkpoint_dims_the_values_are_the_models_own()
    {
        var spec = Spec(null);
        var values = Enumerable.Range(0, 14).Select(i => (float)i).ToArray();
        var normalised = new float[14];

        CheckpointActions.Expand(spec, values, normalised);

        Assert.Equal(values, normalised);
        Assert.Equal(14, spec.CheckpointBlockSize);
    }

    [Fact]
    public void A_length_that_is_not_whole_actions_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => CheckpointActions.Expand(Spec([0, 1]), [1f, 2f, 3f], new float[14]));
        Assert.Contains("2 per action", error.Message);
    }

    [Fact]
    public void The_block_layout_is_described_with_the_axis_names()
    {
        Assert.Equal("4 values: block 2 x 2 dims (dyaw, dx), normalised, dimension-fastest", CheckpointActions.DescribeBlock(Spec([5, 0]), EeCommand.AxisNames));
    }
}
