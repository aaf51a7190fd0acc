using RobotCtl.Core.WorldModel;
using RobotCtl.Inference.WorldModel;

namespace RobotCtl.Inference.Tests;

public class PredictorBuffersTests(ModelsFixture models) : IClassFixture<ModelsFixture>
{
    [Theory]
    [InlineData("lewm-small")]
    [InlineData("vjepa2ac-small")]
    public void Predict_allocates_nothing_managed_after_warm_up(string model)
    {
        var world = models.Get(model);
        using var buffers = world.CreatePredictorBuffers(16, world.Spec.History);
        ReferenceCases.Formula(buffers.Latents.Length, 0.2).CopyTo(buffers.Latents);
        world.Predict(buffers);
        world.Predict(buffers);

        Assert.Equal(0, Allocations.Of(() => world.Predict(buffers), times: 20));
    }

    [Fact]
    public void Encode_allocates_nothing_managed_after_warm_up()
    {
        var world = models.Get("lewm-small");
        var image = world.Spec.Image;
        var pixels = ReferenceCases.Formula(3 * image.Height * image.Width, 0.1);
        var latent = new float[world.Spec.LatentSize];
        world.Encode(pixels, 1, latent);

        Assert.Equal(0, Allocations.Of(() => world.Encode(pixels, 1, latent), times: 20));
    }

    [Fact]
    public void Encode_of_alternating_batch_sizes_allocates_nothing_and_matches_batch_1()
    {
        var world = models.Get("lewm-small");
        var image = world.Spec.Image;
        int frame = 3 * image.Height * image.Width, latent = world.Spec.LatentSize;
        var two = ReferenceCases.Formula(2 * frame, 0.7);
        var latents2 = new float[2 * latent];
        var latent1 = new float[latent];
        world.Encode(two, 2, latents2);
        world.Encode(two.AsSpan(frame), 1, latent1);

        var allocated = Allocations.Of(() =>
        {
            world.Encode(two, 2, latents2);
            world.Encode(two.AsSpan(frame), 1, latent1);
        }, times: 10);

        Assert.Equal(0, allocated);
        // The second image of the batch encodes as it does alone (the bound tensors are per batch size, not shared).
        Assert.True(TestData.MaxAbsDifference(latents2.AsSpan(latent), latent1) < 1e-5f);
    }

    [Fact]
    public void Concurrent_predictions_on_one_session_are_safe_and_identical()
    {
        var world = models.Get("lewm-small");
        const int threads = 4, rounds = 25, batch = 8;
        int time = world.Spec.History;
        float[] Expected(int seed)
        {
            using var b = world.CreatePredictorBuffers(batch, time);
            Fill(b, seed);
            world.Predict(b);
            return b.NextLatents.ToArray();
        }
        var expected = Enumerable.Range(0, threads).Select(Expected).ToArray();

        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            using var buffers = world.CreatePredictorBuffers(batch, time);
            for (int r = 0; r < rounds; r++)
            {
                Fill(buffers, t);
                buffers.NextLatents.Clear();
                world.Predict(buffers);
                if (!buffers.NextLatents.SequenceEqual(expected[t])) failures.Add($"thread {t} round {r}");
            }
        });

        Assert.Empty(failures);
        Assert.NotEqual(expected[0], expected[1]);   // distinct inputs, so a mix-up between threads would show
    }

    [Fact]
    public void Buffers_are_laid_out_as_the_contract_says()
    {
        var world = models.Get("vjepa2ac-small");
        using var buffers = world.CreatePredictorBuffers(5, 2);

        Assert.Equal(5 * 2 * 16 * 32, buffers.Latents.Length);
        Assert.Equal(5 * 2 * 7, buffers.Actions.Length);
        Assert.Equal(5 * 2 * 7, buffers.States.Length);
        Assert.Equal(buffers.Latents.Length, buffers.NextLatents.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => world.CreatePredictorBuffers(5, world.Spec.History + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => world.CreatePredictorBuffers(0, 1));
    }

    [Fact]
    public void Disposed_buffers_are_refused()
    {
        var world = models.Get("lewm-small");
        var buffers = world.CreatePredictorBuffers(1, 1);
        buffers.Dispose();

        Assert.Throws<ObjectDisposedException>(() => world.Predict(buffers));
    }

    [Fact]
    public void Wrong_sizes_are_refused_with_what_was_expected()
    {
        var world = models.Get("lewm-small");
        using var other = new ArrayPredictorBuffers(1, 1, world.Spec.LatentSize + 1, world.Spec.ActionBlockSize, 0);

        var error = Assert.Throws<ArgumentException>(() => world.Predict(other));
        Assert.Contains($"needs {world.Spec.LatentSize}", error.Message);
        Assert.Throws<ArgumentException>(() => world.Encode(new float[10], 1, new float[world.Spec.LatentSize]));
    }

    private static void Fill(PredictorBuffers b, int seed)
    {
        ReferenceCases.Formula(b.Latents.Length, 0.2 + seed).CopyTo(b.Latents);
        ReferenceCases.Formula(b.Actions.Length, 0.3 + seed).CopyTo(b.Actions);
        ReferenceCases.Formula(b.States.Length, 0.4 + seed).CopyTo(b.States);
    }
}
