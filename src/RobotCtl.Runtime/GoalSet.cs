using RobotCtl.Core.Vision;
using RobotCtl.Core.WorldModel;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Runtime;

/// <summary>
/// The goal images of a run, in order (a chain of sub-goals), each encoded once into its latent with the same
/// preprocessing and encoder as live frames.
/// </summary>
public sealed class GoalSet
{
    private readonly float[][] _latents;

    private GoalSet(IReadOnlyList<string> paths, IReadOnlyList<Frame> images, float[][] latents)
    {
        Paths = paths;
        Images = images;
        _latents = latents;
    }

    public IReadOnlyList<string> Paths { get; }
    public IReadOnlyList<Frame> Images { get; }
    public int Count => _latents.Length;

    public ReadOnlySpan<float> Latent(int index) => _latents[index];

    /// <summary>Loads and encodes every goal image; an unreadable one fails with its path and the reason.</summary>
    public static GoalSet Load(IReadOnlyList<string> paths, IWorldModel model, Preprocessor preprocessor)
    {
        if (paths.Count == 0) throw new ArgumentException("at least one goal image is needed (--goal <image>)");
        var images = new List<Frame>(paths.Count);
        foreach (var path in paths) images.Add(ImageIo.Load(path));
        return FromFrames(paths, images, model, preprocessor);
    }

    public static GoalSet FromFrames(IReadOnlyList<string> names, IReadOnlyList<Frame> images, IWorldModel model, Preprocessor preprocessor)
    {
        var pixels = new float[preprocessor.OutputLength];
        var latents = new float[images.Count][];
        for (var i = 0; i < images.Count; i++)
        {
            preprocessor.Process(images[i], pixels);
            latents[i] = new float[model.Spec.LatentSize];
            model.Encode(pixels, 1, latents[i]);
            foreach (var v in latents[i])
                if (!float.IsFinite(v)) throw new WorldModelException($"goal {names[i]}: the encoder produced a non-finite latent");
        }
        return new GoalSet(names, images, latents);
    }
}
