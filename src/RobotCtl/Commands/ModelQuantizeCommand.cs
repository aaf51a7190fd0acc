using System.CommandLine;
using System.Globalization;
using RobotCtl.Core.WorldModel;
using RobotCtl.Inference;
using RobotCtl.Inference.WorldModel;

namespace RobotCtl.Host.Commands;

/// <summary>
/// `robotctl model quantize DIR`: writes the int8 predictor beside the model's own (models/robotctl_models/quantize.py:
/// every matrix product with a constant weight through ONNX Runtime's DynamicQuantizeMatMul, weights int8 per output
/// column), then says what it costs in accuracy (the predictor's reference cases, int8 against PyTorch's fp32) and what
/// it buys in time (the predictor step at --batch, fp32 and int8, in one run). A run uses it only with
/// Inference:Precision=int8. Whether a planner tolerates the drift is measured by `robotctl eval` on the same seeds, not
/// decided from the drift (docs/PERFORMANCE.md): a predictor that predicts anything non-finite is refused.
/// </summary>
internal static class ModelQuantizeCommand
{
    public static Command Create()
    {
        var dir = new Argument<string>("dir") { Description = "Model directory (model.json + encoder.onnx + predictor.onnx)" };
        var python = new Option<string?>("--python")
        {
            Description = $"The Python interpreter with ONNX and NumPy that runs the quantiser (default: $ROBOTCTL_PYTHON, else {ModelTools.DefaultPython})",
        };
        var threads = new Option<int?>("--threads") { Description = "Intra-op threads for the timing (0 = one per physical core). Default: the Inference:IntraOpThreads setting." };
        var batch = new Option<int>("--batch") { Description = "Predictor batch of the timing (candidates per call)", DefaultValueFactory = _ => 300 };
        var runs = new Option<int>("--runs") { Description = "Timed predictor steps per precision after two warm-up steps", DefaultValueFactory = _ => 5 };
        var command = new Command("quantize",
            "Make the model's int8 predictor (predictor.int8.onnx beside predictor.onnx): matrix products with constant " +
            "weights through ONNX Runtime's int8 kernels, weights quantised per output column, activations per call. " +
            "Reports the drift on the predictor's reference cases and the predictor step time, fp32 and int8. Runs use " +
            "it only with Inference:Precision=int8 (--set Inference:Precision=int8); compare success with `robotctl eval` on the same " +
            "seeds before relying on it. Exit 1 when the int8 predictor does not load or predicts a non-finite value (the file is removed), 2 on bad input.");
        command.Arguments.Add(dir);
        foreach (var o in new Option[] { python, threads, batch, runs }) command.Options.Add(o);
        CliErrors.Bounded(batch, 1, CliErrors.SamplesLimit.Max, CliErrors.SamplesLimit.Why);
        CliErrors.Bounded(runs, 1, 1000);
        command.SetAction(r => ModelCommands.Guard("model quantize", Console.Error, () =>
            Quantize(r.GetValue(dir)!, r.GetValue(python), ModelCommands.Options("cpu", r.GetValue(threads)), r.GetValue(batch), r.GetValue(runs), Console.Out, Console.Error)));
        return command;
    }

    internal static int Quantize(string directory, string? python, InferenceOptions options, int batch, int runs, TextWriter stdout, TextWriter stderr)
    {
        var dir = ModelCommands.RequireDirectory(directory);
        var manifest = ModelManifest.Load(dir);
        var input = Path.Combine(dir, manifest.PredictorFile);
        var output = OnnxWorldModel.Int8PredictorPath(dir, manifest);
        OutputPaths.RequireWritableFile("<dir>", output);
        var sharedOutput = OnnxWorldModel.Int8SharedContextPath(dir, manifest);
        if (sharedOutput is not null) OutputPaths.RequireWritableFile("<dir>", sharedOutput);
        var tools = ModelTools.Require(python, "quantize", "import onnx, numpy", "Debian's ONNX and NumPy (python3-onnx)", "onnx and numpy");
        // The shared-context graph (LeWM family) gets its int8 copy too, so an int8 plan still takes its shared positions once.
        foreach (var (from, to) in sharedOutput is null ? [(input, output)] : new[] { (input, output), (Path.Combine(dir, manifest.SharedContext!.File), sharedOutput) })
        {
            var facts = new StringWriter();
            if (tools.Run([from, to], facts, stderr) is var code and not 0)
            {
                stderr.WriteLine($"robotctl model quantize: the quantiser exited with {code} on {from} (see the lines above)");
                return code == ExitCodes.BadInput ? ExitCodes.BadInput : ExitCodes.Failed;
            }
            stdout.WriteLine($"wrote {to} {facts.ToString().Trim()}");
        }

        // The int8 model is loaded once: its drift on the reference cases, then its step time.
        OnnxWorldModel? int8 = null;
        string? refused = null;
        try
        {
            int8 = OnnxWorldModel.Load(dir, options with { Precision = PredictorPrecision.Int8 });
            if (!double.IsFinite(Drift(dir, int8, stdout))) refused = $"the int8 predictor predicts non-finite values: removed {output}";
        }
        catch (Exception e) when (e is WorldModelException or OrtException or InferenceSetupException)
        {
            refused = $"the int8 predictor does not load, removed {output}: {ModelCommands.OneLine(e.Message)}";
        }
        if (refused is not null)
        {
            int8?.Dispose();
            File.Delete(output);
            if (sharedOutput is not null) File.Delete(sharedOutput);
            stderr.WriteLine($"robotctl model quantize: {refused}");
            return ExitCodes.Failed;
        }
        var history = manifest.Spec.History;
        var quantised = int8!;
        var shapes = ModelCommands.PredictorShapes(quantised);
        var int8Ms = new double[shapes.Count];
        using (quantised)
            for (var i = 0; i < shapes.Count; i++) int8Ms[i] = ModelCommands.PredictorStepMs(quantised, batch, runs, shapes[i].Own, shapes[i].Shared);
        using var fp32 = OnnxWorldModel.Load(dir, options);
        for (var i = 0; i < shapes.Count; i++)
        {
            var fp32Ms = ModelCommands.PredictorStepMs(fp32, batch, runs, shapes[i].Own, shapes[i].Shared);
            var what = shapes[i].Shared is not { } given ? $"predictor  batch {batch}, T={history}" : $"shared     batch {batch}, {given} shared + {shapes[i].Own} own";
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what}: fp32 {fp32Ms:F2} ms, int8 {int8Ms[i]:F2} ms ({fp32Ms / int8Ms[i]:F2}x)"));
        }
        stdout.WriteLine("use it with --set Inference:Precision=int8");
        return 0;
    }

    /// <summary>The int8 predictor on each predictor reference case (PyTorch's fp32 outputs); the largest drift relative to the case's largest value.</summary>
    private static double Drift(string directory, OnnxWorldModel int8, TextWriter stdout)
    {
        if (!Directory.Exists(ReferenceCases.Folder(directory)))
        {
            stdout.WriteLine("drift      not measured: the model has no reference/ cases");
            return 0;
        }
        var worst = 0.0;
        foreach (var result in ReferenceCheck.Run(int8, ReferenceCases.Read(directory).Where(c => c.Graph == "predictor").ToList()))
        {
            if (result.Problem is { } problem) throw new WorldModelException($"reference case {result.Case}: {problem}");
            var relative = double.IsFinite(result.MaxAbsDiff) ? result.MaxRelDiff : double.PositiveInfinity;
            worst = Math.Max(worst, relative);
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"drift      {result.Case,-22} max |int8 - fp32 reference| {result.MaxAbsDiff:g3} ({relative:P2} of max|reference| {result.MaxReference:g4})"));
        }
        return worst;
    }
}
