using RobotCtl.Core.WorldModel;

namespace RobotCtl.Core.Tests;

public class LatentDistanceTests
{
    [Fact]
    public void Distance_is_the_mean_squared_difference_per_element()
    {
        Assert.Equal((1.0 + 4.0) / 2, LatentDistance.MeanSquared([1f, 2f], [0f, 0f]), 12);
        Assert.Equal(0.0, LatentDistance.MeanSquared([], []));
        Assert.Throws<ArgumentException>(() => LatentDistance.MeanSquared([1f], [1f, 2f]));
    }
}
