using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using RobotCtl.Core.WorldModel;
using RobotCtl.Runtime;
using RobotCtl.Runtime.Composition;
using RobotCtl.Inference;
using RobotCtl.Inference.WorldModel;

namespace RobotCtl.Host.Commands;

/// <summary>
/// `robotctl model check DIR`: loads a model directory with every check of the model contract (manifest, files, graph
/// signatures, one-sample dry runs), runs its reference/ cases against PyTorch's outputs, and prints what it is; exit 0
/// when usable, 1 with a one-line reason on stderr when not, 2 when the command itself cannot run (bad settings, no
/// ONNX Runtime).
/// `robotctl model bench DIR`: encoder and predictor latency on this machine.
/// </summary>
internal static class ModelCommands
{
    public static Command Create()
    {
        var command = new Command("model", "Inspect and measure world models (a directory with model.json, encoder.onnx, predictor.onnx).");
        command.Subcommands.Add(CheckCommand());
        command.Subcommands.Add(BenchCommand());
        command.Subcommands.Add(ModelScoreCommand.Create());
        command.Subcommands.Add(ModelImportCommand.Create());
        command.Subcommands.Add(ModelQuantizeCommand.Create());
        return command;
    }

    private static Argument<string> DirectoryArgument() =>
        new("dir") { Description = "Model directory, e.g. models/examples/lewm-small (relative to the current directory or the robotctl home)" };

    private static Option<string?> ProviderOption()
    {
        var option = new Option<string?>("--provider")
        {
            Description = "Execution provider: auto (CUDA on the CUDA build when it can start, else CPU), cpu, cuda, tensorrt. " +
                          $"Default: the Inference:Provider setting (auto). This robotctl is the {OnnxRuntimeBuild.Flavour} build; " +
                          $"CUDA/TensorRT need the CUDA build: {OnnxRuntimeBuild.HowToGetCuda}.",
        };
        option.AcceptOnlyFromAmong("auto", "cpu", "cuda", "tensorrt");
        return option;
    }

    private static Option<int?> ThreadsOption()
    {
        var threads = new Option<int?>("--threads") { Description = "Intra-op threads of each session (0 = one per physical core). Default: the Inference:IntraOpThreads setting." };
        CliErrors.Bounded(threads, 0, 1024, _ => "far beyond the cores only adds contention");
        return threads;
    }

    private static Command CheckCommand()
    {
        var dir = DirectoryArgument();
        var json = new Option<bool>("--json") { Description = "Print the report as one JSON object" };
        var provider = ProviderOption();
        var threads = ThreadsOption();
        var noReference = new Option<bool>("--no-reference") { Description = "Skip the reference/ cases (PyTorch's outputs on formula inputs)" };
        var command = new Command("check",
            "Validate a model directory against the model contract: model.json fields, files, graph inputs/outputs against " +
            "the manifest, and a one-sample dry run of both graphs (finite values of the declared shapes); then run every " +
            "case of its reference/ folder, when it has one, and compare with PyTorch's outputs (tolerance " +
            "1e-4 + 1e-3 x max|reference|). Prints the signature, latent shape, action layout, state, planner defaults, " +
            "the dry-run timings and each reference case. Exit 0 when the model is usable; 1 with the reason on stderr " +
            "when it is not (a reference case beyond the tolerance included); 2 when the check cannot run.");
        command.Arguments.Add(dir);
        command.Options.Add(json);
        command.Options.Add(provider);
        command.Options.Add(threads);
        command.Options.Add(noReference);
        command.SetAction(r => Guard("model check", Console.Error, () =>
            Check(r.GetValue(dir)!, Options(r.GetValue(provider), r.GetValue(threads)), r.GetValue(json), !r.GetValue(noReference),
                Console.Out, Console.Error)));
        return command;
    }

    private static Command BenchCommand()
    {
        var dir = DirectoryArgument();
        var provider = ProviderOption();
        var threads = ThreadsOption();
        var batch = new Option<int>("--batch") { Description = "Predictor batch (candidates per call)", DefaultValueFactory = _ => 300 };
        var runs = new Option<int>("--runs") { Description = "Timed runs of each graph after two warm-up runs", DefaultValueFactory = _ => 10 };
        var precision = new Option<PredictorPrecision?>("--precision")
        {
            Description = "The predictor to time: fp32 (the model's) or int8 (made by `robotctl model quantize`). Default: the Inference:Precision setting (fp32).",
        };
        var command = new Command("bench",
            "Measure a model on this machine: encoder latency at batch 1 and predictor step latency at --batch with the " +
            "full history window, median of --runs, with GFLOP/s when model.json carries \"flops\".");
        command.Arguments.Add(dir);
        command.Options.Add(provider);
        command.Options.Add(threads);
        command.Options.Add(batch);
        command.Options.Add(runs);
        command.Options.Add(precision);
        CliErrors.Bounded(batch, 1, CliErrors.SamplesLimit.Max, CliErrors.SamplesLimit.Why);
        CliErrors.Bounded(runs, 1, 100_000);
        command.SetAction(r => Guard("model bench", Console.Error, () =>
            Bench(r.GetValue(dir)!, Options(r.GetValue(provider), r.GetValue(threads)) is var o && r.GetValue(precision) is { } p ? o with { Precision = p } : o,
                r.GetValue(batch), r.GetValue(runs), Console.Out)));
        return command;
    }

    /// <summary>Inference settings from configuration, with the command line's overrides.</summary>
    internal static InferenceOptions Options(string? provider, int? threads)
    {
        var options = RunSettings.InferenceFrom(AppConfiguration.Build());
        if (provider is not null)
        {
            options = options with
            {
                Provider = provider.ToLowerInvariant() switch
                {
                    "auto" => ExecutionProvider.Auto,
                    "cpu" => ExecutionProvider.Cpu,
                    "cuda" => ExecutionProvider.Cuda,
                    "tensorrt" => ExecutionProvider.TensorRt,
                    _ => throw new ArgumentException($"--provider must be auto, cpu, cuda or tensorrt, found '{provider}'"),
                },
            };
        }
        if (threads is { } n)
        {
            if (n < 0) throw new ArgumentException($"--threads must be >= 0, found {n}");
            options = options with { IntraOpThreads = n };
        }
        return options;
    }

    internal static int Guard(string name, TextWriter stderr, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is InferenceSetupException or WorldModelException or OrtException or ArgumentException
                                      or InvalidOperationException or IOException or ConfigurationValueException)
        {
            stderr.WriteLine($"robotctl {name}: {OneLine(e.Message)}");
            return ExitCodes.BadInput;
        }
        catch (Exception e)
        {
            stderr.WriteLine($"robotctl {name}: unexpected {e.GetType().Name}: {OneLine(e.Message)}");
            return ExitCodes.BadInput;
        }
    }

    internal static int Check(string directory, InferenceOptions options, bool json, bool references, TextWriter stdout, TextWriter stderr)
    {
        var report = ModelCheck.Run(RequireDirectory(directory), options, references);
        if (json) stdout.WriteLine(report.ToJson());
        else Print(report, references, stdout);
        foreach (var warning in report.Warnings) stderr.WriteLine($"robotctl model check: warning: {OneLine(warning)}");
        if (report.Usable) return 0;
        stderr.WriteLine($"robotctl model check: {report.Directory} is not usable: {OneLine(string.Join("; ", report.Problems))}");
        return ExitCodes.Failed;
    }

    /// <summary>A path that is no directory at all is bad input (exit 2), not an unusable model (exit 1).</summary>
    internal static string RequireDirectory(string directory)
    {
        var path = RobotCtlHome.Resolve(directory);
        if (File.Exists(path)) throw new ArgumentException($"<dir> {directory}: is a file, expected a model directory (model.json, encoder.onnx, predictor.onnx)");
        if (!Directory.Exists(path)) throw new ArgumentException($"<dir> {directory}: directory not found ({path})");
        return path;
    }

    private static void Print(ModelCheckReport report, bool referencesAsked, TextWriter o)
    {
        var spec = report.Spec;
        o.WriteLine($"model      {report.Directory}" + (spec is null ? "" : $" ({spec.Name}, family {spec.Family})"));
        if (report.Library is { } library) o.WriteLine($"runtime    {library}");
        if (report.Provider is { } provider) o.WriteLine($"provider   {provider}");
        foreach (var (label, graph) in new[] { ("encoder", report.Encoder), ("predictor", report.Predictor), ("shared", report.SharedContext) })
        {
            if (graph is null) continue;
            o.WriteLine($"{label,-10} {graph.File}");
            foreach (var i in graph.Inputs) o.WriteLine($"  in       {i}");
            foreach (var x in graph.Outputs) o.WriteLine($"  out      {x}");
        }
        if (spec is not null)
        {
            o.WriteLine($"image      {spec.Image.Width}x{spec.Image.Height} RGB, x = (pixel / {F(spec.Image.Scale)} - mean) / std, mean [{Join(spec.Image.Mean)}], std [{Join(spec.Image.Std)}]");
            o.WriteLine($"latent     [{string.Join(", ", spec.LatentShape)}] ({spec.LatentSize} values per frame), history {spec.History} frames, cost {spec.Planner.Cost}");
            o.WriteLine($"action     dim {spec.ActionDim} x block {spec.ActionBlock} = {spec.ActionBlockSize} per predictor step; " +
                        $"mean [{Join(spec.ActionMean)}], std [{Join(spec.ActionStd)}], searched [{string.Join(", ", spec.ActionSearch.Select(s => s ? "yes" : "no"))}]");
            o.WriteLine(spec.StateDim > 0 ? $"state      dim {spec.StateDim}, integrated as {spec.StateIntegration}" : "state      none");
            var p = spec.Planner;
            o.WriteLine($"planner    {p.Solver}, samples {p.Samples}, topk {p.TopK}, iterations {p.Iterations}, horizon {p.Horizon}, receding {p.Receding}, init_std {F(p.InitStd)}, cost shape {p.CostShape ?? CostShape.Last}, executes the {p.Execute}{(p.Elitism ? ", elitism" : "")}" +
                        (p.InitStdPerDim is { } perDim ? $", init std per dim [{Join(perDim)}]" : "") +
                        (p.LatentWeights is { } lw ? $", latent weights [{Join(lw)}] (the rest 1)" : "") +
                        (p.WarmStart ? "" : ", no warm start") + (p.MeanSample ? "" : ", every sample drawn") +
                        (p.MeanMomentum > 0 || p.StdMomentum > 0 ? $", momentum mean {F(p.MeanMomentum)} std {F(p.StdMomentum)}" : "") +
                        (p.GripperDeadband > 0 ? $", gripper dead-band {F(p.GripperDeadband)}" : ""));
        }
        if (report.Flops is { } flops)
            o.WriteLine($"flops      encoder {flops.EncoderPerImage / 1e6:F1} MFLOP/image; predictor per sample " +
                        string.Join(", ", flops.PredictorPerSample.OrderBy(kv => kv.Key).Select(kv => $"T={kv.Key}: {kv.Value / 1e6:F1} MFLOP")));
        if (report.Timings is { } t)
        {
            o.WriteLine($"dry run    encoder: load {t.EncoderLoadMs:F1} ms, first run {t.EncoderFirstRunMs:F2} ms, warm run {t.EncoderRunMs:F2} ms (batch 1)");
            o.WriteLine($"           predictor: load {t.PredictorLoadMs:F1} ms, first run {t.PredictorFirstRunMs:F2} ms, warm run {t.PredictorRunMs:F2} ms (batch 1, T={(spec is null ? 0 : ModelCheck.DryRunWindow(spec.History))})");
        }
        if (report.SharedContextError is { } sharedError)
            o.WriteLine($"shared     the shared-context graph computes the predictor's last position on every split of every window: largest difference {sharedError:0.0e+00} of the largest output (at most {OnnxWorldModel.SharedContextTolerance:g1})");
        if (report.References is { } references)
        {
            o.WriteLine($"reference  {references.Count} cases against PyTorch, tolerance {ReferenceCheck.AbsoluteTolerance:g1} + {ReferenceCheck.RelativeTolerance:g1} x max|reference|");
            foreach (var r in references)
                o.WriteLine(r.Problem is { } problem
                    ? $"  {r.Case,-22} FAIL: {OneLine(problem)}"
                    : $"  {r.Case,-22} max|diff| {r.MaxAbsDiff:0.0e+00}  rel {r.MaxRelDiff:0.0e+00}  max|ref| {r.MaxReference:F3}  {(r.Passed ? "ok" : "FAIL")}");
        }
        else if (report.Timings is not null)
            o.WriteLine(referencesAsked ? "reference  none (no reference/ folder)" : "reference  not run (--no-reference)");
        if (report.Usable) o.WriteLine("result     usable");
        else
        {
            o.WriteLine("result     NOT usable:");
            foreach (var problem in report.Problems) o.WriteLine($"  - {OneLine(problem)}");
        }
    }

    internal static int Bench(string directory, InferenceOptions options, int batch, int runs, TextWriter o)
    {
        if (batch < 1) throw new ArgumentException($"--batch must be >= 1, found {batch}");
        if (runs < 1) throw new ArgumentException($"--runs must be >= 1, found {runs}");
        using var model = OnnxWorldModel.Load(RequireDirectory(directory), options);
        var spec = model.Spec;
        o.WriteLine($"model      {model.Manifest.Directory} ({spec.Name}); {model.Library}; provider {model.Provider}; intra-op threads {(options.IntraOpThreads == 0 ? "default" : options.IntraOpThreads)}");

        var pixels = new float[3 * spec.Image.Height * spec.Image.Width];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = MathF.Sin(i * 0.0137f);
        var latent = new float[spec.LatentSize];
        var encode = Median(runs, () => model.Encode(pixels, 1, latent));

        // The ceiling first, with the same session options: every rate below is a share of it.
        var ceiling = MatMulCeiling.GflopsPerSecond(options);
        o.WriteLine($"ceiling    ONNX Runtime MatMul 2048 x 2048 x 2048, fp32: {ceiling:F1} GFLOP/s (best of 5)");
        Report(o, "encoder", "batch 1", encode, model.Manifest.Flops?.EncoderPerImage, ceiling);

        var history = spec.History;
        double? perSample = model.Manifest.Flops?.PredictorPerSample.GetValueOrDefault(history);
        var precision = options.Precision.ToString().ToLowerInvariant();
        foreach (var (own, shared) in PredictorShapes(model))
        {
            var ms = PredictorStepMs(model, batch, runs, own, shared);
            if (shared is not { } given) Report(o, "predictor", $"batch {batch}, T={history}, {precision}", ms, perSample * batch, ceiling);
            else
            {
                // Per candidate, as the exporter counted it (the batch-1 context positions, paid once per call, are not counted).
                Report(o, "shared", $"batch {batch}, {given} shared + {own} own of T={history}, last position, {precision}", ms,
                    model.Manifest.Flops?.SharedContext(given, own) * batch, ceiling);
            }
        }
        return 0;
    }

    /// <summary>The predictor calls a plan makes on the full window: the plain predictor (every position per sample,
    /// Shared null), then (shared-context models) the shared-context graph on each split into positions given once and
    /// positions per sample, none shared first (a window of predicted frames) to the most.</summary>
    internal static IReadOnlyList<(int Own, int? Shared)> PredictorShapes(OnnxWorldModel model)
    {
        var history = model.Spec.History;
        var shapes = new List<(int Own, int? Shared)> { (history, null) };
        if (model.HasSharedContext)
            for (var shared = 0; shared < history; shared++) shapes.Add((history - shared, shared));
        return shapes;
    }

    /// <summary>The median predictor step of <paramref name="model"/>: <paramref name="batch"/> samples of <paramref name="own"/>
    /// positions (default the full history), through the plain predictor, or through the shared-context graph with
    /// <paramref name="shared"/> positions given once.</summary>
    internal static double PredictorStepMs(OnnxWorldModel model, int batch, int runs, int? own = null, int? shared = null)
    {
        var time = own ?? model.Spec.History;
        using var buffers = shared is { } p ? model.CreatePredictorBuffers(batch, time, p) : model.CreatePredictorBuffers(batch, time);
        for (int i = 0; i < buffers.Latents.Length; i++) buffers.Latents[i] = MathF.Sin(i * 0.0137f + 0.2f);
        for (int i = 0; i < buffers.ContextLatents.Length; i++) buffers.ContextLatents[i] = MathF.Sin(i * 0.0137f + 0.4f);
        return Median(runs, () => model.Predict(buffers));
    }

    private static void Report(TextWriter o, string graph, string shape, double ms, double? flops, double ceiling)
    {
        var gflops = flops / (ms / 1e3) / 1e9;
        var rate = gflops is > 0 ? $", {gflops:F1} GFLOP/s = {100 * gflops / ceiling:F0} % of the ceiling" : "";
        o.WriteLine($"{graph,-10} {shape}: median {ms:F2} ms{rate}");
    }

    private static double Median(int runs, Action run)
    {
        run();
        run();
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            var start = Stopwatch.GetTimestamp();
            run();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[runs / 2];
    }

    private static string F(float v) => v.ToString("0.####", CultureInfo.InvariantCulture);
    private static string Join(IEnumerable<float> values) => string.Join(", ", values.Select(F));

    internal static string OneLine(string text) =>
        string.Join(" ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
