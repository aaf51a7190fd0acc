namespace RobotCtl.Host.Tests;

/// <summary>
/// `robotctl model bench` times every path a plan runs (the plain predictor, the shared-context graph at each split of
/// the window) and rates each by the FLOPs the exporter counted for it, against ONNX Runtime's own MatMul ceiling
/// measured in the same run.
/// </summary>
public sealed class ModelBenchTests
{
    [Fact]
    public void Every_path_is_timed_and_rated_against_the_ceiling()
    {
        var r = BadInputTests.Cli("model", "bench", TestHome.SmallModel, "--threads", "1", "--batch", "8", "--runs", "1");

        Assert.True(r.Code == 0, r.Err);
        Assert.Matches(@"ceiling    ONNX Runtime MatMul 2048 x 2048 x 2048, fp32: [\d.]+ GFLOP/s", r.Out);
        Assert.Matches(@"predictor  batch 8, T=3, fp32: median [\d.]+ ms, [\d.]+ GFLOP/s = \d+ % of the ceiling", r.Out);
        // The shared-context graph at 0, 1 and 2 positions given once, each rated by model.json's count for that split.
        for (var shared = 0; shared < 3; shared++)
            Assert.Matches($@"shared     batch 8, {shared} shared \+ {3 - shared} own of T=3, last position, fp32: median [\d.]+ ms, [\d.]+ GFLOP/s = \d+ % of the ceiling", r.Out);
    }
}
