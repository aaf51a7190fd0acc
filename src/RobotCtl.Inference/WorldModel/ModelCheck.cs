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

    public static ModelCheckReport Run(string directory, InferenceOptions? options = null)
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
                Timings = model?.Timings,
            };
        }
    }
}
