using RobotCtl.Core.WorldModel;

namespace RobotCtl.Planning.Tests;

/// <summary>Specs and images shared by the analytic models.</summary>
internal static class Analytic
{
    public const int ImageSize = 32;

    public static WorldModelSpec Spec(string name, int[] latentShape, int block, int history, float[] mean, float[] std,
        bool[] search, int stateDim = 0, string cost = "mse") => new()
    {
        Name = name,
        Family = stateDim > 0 ? "vjepa2-ac" : "lewm",
        Image = new ImageSpec(ImageSize, ImageSize, 255f, [0, 0, 0], [1, 1, 1]),
        LatentShape = latentShape,
        ActionDim = 7,
        ActionBlock = block,
        ActionMean = mean,
        ActionStd = std,
        ActionSearch = search,
        History = history,
        StateDim = stateDim,
        StateIntegration = stateDim > 0 ? "ee-pose-euler-xyz" : null,
        Planner = new PlannerDefaults(Cost: cost),
    };

    /// <summary>A dark [3, S, S] image with a bright 3x3 object centred at pixel (x, y).</summary>
    public static float[] ObjectImage(int x, int y)
    {
        var pixels = new float[3 * ImageSize * ImageSize];
        for (var c = 0; c < 3; c++)
            for (var dy = -1; dy <= 1; dy++)
                for (var dx = -1; dx <= 1; dx++)
                    pixels[(c * ImageSize + y + dy) * ImageSize + x + dx] = 1f;
        return pixels;
    }
}

/// <summary>
/// LeWM-shaped analytic model with a known optimum. The "encoder" reads the object's position off the image
/// (intensity-weighted centroid of channel 0, in pixels); the predictor is linear, z' = z + Gain * (sum of the block's
/// physical dx, dy): the object moves with the end effector. Optionally a momentum term
/// (+ Momentum * (z[t] - z[t-1]) inside the window) makes predictions depend on the whole history window.
/// Can advance a fake clock per predictor call, and records every window length it was called with.
/// </summary>
internal sealed class ObjectPushModel(WorldModelSpec spec, float gain = 100f, float momentum = 0f) : IWorldModel
{
    public WorldModelSpec Spec { get; } = spec;
    public float Gain { get; } = gain;
    public List<int> CallWindows { get; } = new(capacity: 1024);
    public bool RecordCalls { get; set; }
    public Action? OnPredict { get; set; }

    public void Encode(ReadOnlySpan<float> pixels, int batch, Span<float> latents)
    {
        var plane = Analytic.ImageSize * Analytic.ImageSize;
        for (var b = 0; b < batch; b++)
        {
            var image = pixels.Slice(b * 3 * plane, plane);
            double sum = 0, sx = 0, sy = 0;
            for (var i = 0; i < plane; i++)
            {
                sum += image[i];
                sx += image[i] * (i % Analytic.ImageSize);
                sy += image[i] * (i / Analytic.ImageSize);
            }
            latents[b * 2] = (float)(sx / sum);
            latents[b * 2 + 1] = (float)(sy / sum);
        }
    }

    public PredictorBuffers CreatePredictorBuffers(int batch, int time) =>
        new ArrayPredictorBuffers(batch, time, Spec.LatentSize, Spec.ActionBlockSize, Spec.StateDim);

    public void Predict(PredictorBuffers buffers)
    {
        if (RecordCalls) CallWindows.Add(buffers.Time);
        OnPredict?.Invoke();
        int t = buffers.Time, a = Spec.ActionBlockSize;
        var latents = buffers.Latents;
        var actions = buffers.Actions;
        var next = buffers.NextLatents;
        for (var b = 0; b < buffers.Batch; b++)
            for (var p = 0; p < t; p++)
            {
                var row = b * t + p;
                float mx = 0, my = 0;
                for (var j = 0; j < Spec.ActionBlock; j++)
                {
                    mx += actions[row * a + j * 7] * Spec.ActionStd[0] + Spec.ActionMean[0];
                    my += actions[row * a + j * 7 + 1] * Spec.ActionStd[1] + Spec.ActionMean[1];
                }
                for (var i = 0; i < 2; i++)
                {
                    var velocity = p > 0 ? latents[row * 2 + i] - latents[(row - 1) * 2 + i] : 0f;
                    next[row * 2 + i] = latents[row * 2 + i] + Gain * (i == 0 ? mx : my) + momentum * velocity;
                }
            }
    }

    public void Dispose() { }
}

/// <summary>
/// V-JEPA 2-AC-shaped analytic model: token latents [Tokens, Width] that are a fixed linear picture of the
/// end-effector position; the predictor takes the state input and the 7-D action and predicts the tokens of
/// position state.xyz + action.xyz. It ignores its latent input, so it only reaches the goal if the planner feeds
/// the right (integrated) states.
/// </summary>
internal sealed class TokenPoseModel(WorldModelSpec spec) : IWorldModel
{
    public const int Tokens = 4, Width = 3;
    public WorldModelSpec Spec { get; } = spec;

    /// <summary>Token n, channel c = sum_i W[n, c, i] * xyz[i] with a fixed, well-conditioned W.</summary>
    public static void LatentOf(ReadOnlySpan<float> xyz, Span<float> latent)
    {
        for (var n = 0; n < Tokens; n++)
            for (var c = 0; c < Width; c++)
            {
                float v = 0;
                for (var i = 0; i < 3; i++) v += Weight(n, c, i) * xyz[i];
                latent[n * Width + c] = v;
            }
    }

    private static float Weight(int n, int c, int i) => (c == i ? 1f + n : 0f) + 0.1f * ((n + 2 * c + 3 * i) % 5 - 2);

    public void Encode(ReadOnlySpan<float> pixels, int batch, Span<float> latents) =>
        throw new NotSupportedException("the tests build goal latents with LatentOf");

    public PredictorBuffers CreatePredictorBuffers(int batch, int time) =>
        new ArrayPredictorBuffers(batch, time, Spec.LatentSize, Spec.ActionBlockSize, Spec.StateDim);

    public void Predict(PredictorBuffers buffers)
    {
        Span<float> xyz = stackalloc float[3];
        var a = Spec.ActionBlockSize;
        var rows = buffers.Batch * buffers.Time;
        for (var row = 0; row < rows; row++)
        {
            for (var i = 0; i < 3; i++)
            {
                var move = 0f;
                for (var j = 0; j < Spec.ActionBlock; j++) move += buffers.Actions[row * a + j * 7 + i] * Spec.ActionStd[i] + Spec.ActionMean[i];
                xyz[i] = buffers.States[row * 7 + i] + move;
            }
            LatentOf(xyz, buffers.NextLatents.Slice(row * Spec.LatentSize, Spec.LatentSize));
        }
    }

    public void Dispose() { }
}
