namespace RobotCtl.Inference.WorldModel;

/// <summary>Loads a model directory with every contract check and reports, instead of throwing, what it found.</summary>
public static class ModelCheck
{
    /// <summary>
    /// The window length of the predictor's dry run: the model's history, at most 3 frames. Three show that T is dynamic
    /// and that the causal mask and position table are sliced by it; a V-JEPA 2-AC predictor's full 32-frame window
    /// would cost ~12 TFLOP and ~10 GB of attention buffers on every load.
    /// </summary>
    public static int DryRunWindow(int history) => Math.Min(history, 3);

    /// <summary>
    /// Loads <paramref name="directory"/> with every contract check; then, when it loaded and
    /// <paramref name="references"/> is set, runs each case of its reference/ folder (if it has one) through its graphs.
    /// A case beyond <see cref="ReferenceCheck.Tolerance"/> or a reference folder that cannot be read is a problem.
    /// </summary>
    public static ModelCheckReport Run(string directory, InferenceOptions? options = null, bool references = true)
    {
        options ??= InferenceOptions.Default;
        var diagnostics = new OnnxWorldModel.LoadDiagnostics();
        var warnings = new List<string>();
        OnnxWorldModel? model = null;
        try
        {
            model = OnnxWorldModel.TryLoad(directory, options, warnings.Add, diagnostics);
        }
        catch (InferenceSetupException e)
        {
            diagnostics.Problems.Add(e.Message);
        }
        var manifest = diagnostics.Manifest;
        using (model)
        {
            var results = model is not null && references ? CheckReferences(model, directory, diagnostics.Problems) : null;
            return new ModelCheckReport
            {
                Directory = directory,
                Problems = diagnostics.Problems,
                Warnings = warnings,
                Library = OnnxRuntime.Loaded,
                Provider = model?.Provider,
                Spec = manifest?.Spec,
                Flops = manifest?.Flops,
                Encoder = diagnostics.Encoder,
                Predictor = diagnostics.Predictor,
                SharedContext = diagnostics.SharedContext,
                SharedContextError = model?.SharedContextError,
                Timings = model?.Timings,
                References = results,
            };
        }
    }

    private static IReadOnlyList<ReferenceResult>? CheckReferences(OnnxWorldModel model, string directory, List<string> problems)
    {
        if (!Directory.Exists(ReferenceCases.Folder(directory))) return null;
        IReadOnlyList<ReferenceCase> cases;
        try
        {
            cases = ReferenceCases.Read(directory);
        }
        catch (InvalidDataException e)
        {
            problems.Add(e.Message);
            return null;
        }
        var results = ReferenceCheck.Run(model, cases);
        problems.AddRange(results.Where(r => !r.Passed).Select(ReferenceCheck.Describe));
        return results;
    }
}
