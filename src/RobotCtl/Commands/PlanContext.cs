using RobotCtl.Core.Arm;
using RobotCtl.Core.Vision;
using RobotCtl.Core.WorldModel;
using RobotCtl.Inference.WorldModel;
using RobotCtl.Planning;
using RobotCtl.Runtime.Composition;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Host.Commands;

/// <summary>
/// A plan's context as `plan` and `model score` take it from the command line, the way the loop builds it:
/// `--context` images oldest first (the last is the current frame), `--context-actions` the F-1 executed blocks
/// between them in the checkpoint's own units (JSON [F-1][block values]), `--context-states` one state per frame
/// (JSON [F][state dim]) for models that take states.
/// </summary>
internal sealed class PlanContext
{
    public required float[] Latents { get; init; }        // [F, L]
    public required float[] PastActions { get; init; }    // [F-1, block * dim], normalised model units
    public required float[] States { get; init; }         // [F, S]
    public int Frames { get; init; }

    public PlanInput Input(ulong? seed = null) => new(Latents)
    {
        PastActions = PastActions, PastActionsNormalised = true, States = States, Seed = seed,
    };

    public static PlanContext Read(OnnxWorldModel model, Preprocessor preprocessor, IReadOnlyList<string> images,
        string? actionsFile, string? statesFile, float[]? currentState = null)
    {
        var spec = model.Spec;
        if (images.Count < 1 || images.Count > spec.History)
            throw new ArgumentException($"--context: model '{spec.Name}' takes 1..{spec.History} context frames (predictor.history), found {images.Count} images");
        var f = images.Count;
        var latents = new float[f * spec.LatentSize];
        for (var i = 0; i < f; i++) Encode(preprocessor, model, images[i]).CopyTo(latents, i * spec.LatentSize);

        var past = new float[(f - 1) * spec.ActionBlockSize];
        if (actionsFile is null)
        {
            if (f > 1)
                throw new ArgumentException($"--context-actions: {f} context frames need the {f - 1} action block(s) executed between them " +
                                            $"(JSON [{f - 1}][{CheckpointActions.DescribeBlock(spec, EeCommand.AxisNames)}])");
        }
        else
        {
            var rows = JsonNumbers.ReadMatrix(actionsFile, "--context-actions");
            if (rows.Length != f - 1)
                throw new ArgumentException($"--context-actions {actionsFile}: expected {f - 1} block(s) (one per gap between {f} context frames), found {rows.Length}");
            for (var k = 0; k < rows.Length; k++)
            {
                if (rows[k].Length != spec.CheckpointBlockSize)
                    throw new ArgumentException($"--context-actions {actionsFile}: block {k}: expected {CheckpointActions.DescribeBlock(spec, EeCommand.AxisNames)}, found {rows[k].Length} values");
                CheckpointActions.Expand(spec, rows[k], past.AsSpan(k * spec.ActionBlockSize, spec.ActionBlockSize));
            }
        }

        var states = new float[f * spec.StateDim];
        if (statesFile is not null)
        {
            if (spec.StateDim == 0) throw new ArgumentException($"--context-states: model '{spec.Name}' takes no state input");
            var rows = JsonNumbers.ReadMatrix(statesFile, "--context-states");
            if (rows.Length != f) throw new ArgumentException($"--context-states {statesFile}: expected {f} states (one per context frame), found {rows.Length}");
            for (var k = 0; k < f; k++)
            {
                if (rows[k].Length != spec.StateDim)
                    throw new ArgumentException($"--context-states {statesFile}: state {k}: expected {spec.StateDim} values, found {rows[k].Length}");
                rows[k].CopyTo(states, k * spec.StateDim);
            }
        }
        else if (spec.StateDim > 0)
        {
            if (f > 1)
                throw new ArgumentException($"--context-states: model '{spec.Name}' takes states: give one per context frame (JSON [{f}][{spec.StateDim}])");
            currentState?.CopyTo(states, (f - 1) * spec.StateDim);
        }
        return new PlanContext { Latents = latents, PastActions = past, States = states, Frames = f };
    }

    /// <summary>Loads, preprocesses and encodes one image; a non-finite latent is refused.</summary>
    public static float[] Encode(Preprocessor preprocessor, OnnxWorldModel model, string path)
    {
        var latent = new float[model.Spec.LatentSize];
        Encode(preprocessor, model, ImageIo.Load(RobotCtlHome.Resolve(path)), new float[preprocessor.OutputLength], latent, path);
        return latent;
    }

    /// <summary>Preprocesses <paramref name="frame"/> into <paramref name="pixels"/> and encodes it into <paramref name="latent"/>;
    /// a non-finite latent is refused, naming <paramref name="what"/> was encoded.</summary>
    public static void Encode(Preprocessor preprocessor, OnnxWorldModel model, Frame frame, Span<float> pixels, Span<float> latent, string what)
    {
        preprocessor.Process(frame, pixels);
        model.Encode(pixels, 1, latent);
        for (var i = 0; i < latent.Length; i++)
            if (!float.IsFinite(latent[i]))
                throw new WorldModelException($"model '{model.Spec.Name}': the encoder gave a non-finite latent for {what} (value {i} is {latent[i]})");
    }
}
