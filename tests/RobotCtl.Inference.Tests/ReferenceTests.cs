using RobotCtl.Core.WorldModel;
using RobotCtl.Inference.WorldModel;

namespace RobotCtl.Inference.Tests;

/// <summary>
/// ONNX Runtime's outputs against PyTorch's (models/*/reference, written by robotctl_models.make_models from the same
/// formula inputs), through the runtime's own paths (Encode, Predict with bound and plain buffers): both families,
/// batch 1 and 300, every window length T the references hold. `model check` runs the same cases through
/// <see cref="ReferenceCheck"/> (ModelCheckTests).
/// </summary>
public class ReferenceTests(ModelsFixture models) : IClassFixture<ModelsFixture>
{
    private const float Tolerance = 1e-4f;

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var model in new[] { "lewm-small", "vjepa2ac-small" })
            foreach (var c in ReferenceCases.Read(TestData.Example(model)))
                data.Add(model, c.Name);
        return data;
    }

    [Fact]
    public void The_references_cover_batch_1_and_300_and_every_window_length()
    {
        foreach (var model in new[] { "lewm-small", "vjepa2ac-small" })
        {
            var cases = ReferenceCases.Read(TestData.Example(model));
            var history = models.Get(model).Spec.History;
            Assert.Contains(cases, c => c.Name == "encoder_b1");
            Assert.Contains(cases, c => c.Name == "encoder_b300");
            for (int t = 1; t <= history; t++) Assert.Contains(cases, c => c.Name == $"predictor_b1_T{t}");
            Assert.Contains(cases, c => c.Name == $"predictor_b300_T{history}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Outputs_match_PyTorch(string model, string caseName)
    {
        var world = models.Get(model);
        var c = ReferenceCases.Read(TestData.Example(model)).Single(x => x.Name == caseName);
        var batch = (int)c.Inputs[0].Shape[0];

        float[] actual;
        if (c.Graph == "encoder")
        {
            actual = new float[batch * world.Spec.LatentSize];
            world.Encode(c.Inputs.Single().Values(), batch, actual);
        }
        else
        {
            int time = (int)c.Inputs[0].Shape[1];
            using var buffers = world.CreatePredictorBuffers(batch, time);
            Fill(buffers, c);
            world.Predict(buffers);
            actual = buffers.NextLatents.ToArray();
        }

        Assert.Equal(c.Expected.Length, actual.Length);
        var error = TestData.MaxAbsDifference(actual, c.Expected);
        Assert.True(error <= Tolerance, $"{model}/{caseName}: max |ORT - PyTorch| = {error:g3} > {Tolerance:g1}");
    }

    [Theory]
    [InlineData("lewm-small")]
    [InlineData("vjepa2ac-small")]
    public void Plain_array_buffers_give_the_same_result_as_bound_ones(string model)
    {
        var world = models.Get(model);
        var history = world.Spec.History;
        var c = ReferenceCases.Read(TestData.Example(model)).Single(x => x.Name == $"predictor_b1_T{history}");
        using var buffers = new ArrayPredictorBuffers(1, history, world.Spec.LatentSize, world.Spec.ActionBlockSize, world.Spec.StateDim);
        Fill(buffers, c);

        world.Predict(buffers);

        Assert.True(TestData.MaxAbsDifference(buffers.NextLatents, c.Expected) <= Tolerance);
    }

    internal static void Fill(PredictorBuffers buffers, ReferenceCase c)
    {
        foreach (var input in c.Inputs)
        {
            var target = input.Name switch
            {
                "latents" => buffers.Latents,
                "actions" => buffers.Actions,
                "states" => buffers.States,
                _ => throw new InvalidOperationException($"unexpected reference input {input.Name}"),
            };
            Assert.Equal(input.Count, target.Length);
            input.Values().CopyTo(target);
        }
    }
}
