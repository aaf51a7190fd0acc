using System.CommandLine;
using RobotCtl.Inference.WorldModel;
using RobotCtl.Runtime.Composition;

namespace RobotCtl.Host.Commands;

/// <summary>
/// `robotctl model import lewm|vjepa2-ac CHECKPOINT --out DIR`: turns an authors' checkpoint into a model directory of
/// robotctl's contract. The conversion itself is PyTorch work (the state dict is a torch pickle; the graphs are exported
/// with torch.onnx), so it runs the project's importer for the family (the robotctl_models.lewm_import or
/// robotctl_models.vjepa2ac_import module of models/, the Python package) with a Python that has PyTorch and ONNX; then
/// the new directory is checked as `model check` does, its reference cases included, with this robotctl's ONNX Runtime.
/// </summary>
internal static class ModelImportCommand
{
    /// <summary>A family's importer (a module of <see cref="ModelTools.Package"/>) and how it starts its one-line verdicts on stderr.</summary>
    private sealed record Importer(string Module, string Prefix);

    private static readonly Dictionary<string, Importer> Importers = new()
    {
        ["lewm"] = new("lewm_import", "lewm import: "),
        ["vjepa2-ac"] = new("vjepa2ac_import", "vjepa2-ac import: "),
    };

    public static Command Create()
    {
        var family = new Argument<string>("family")
        {
            Description = "The checkpoint's model family: lewm (a stable-worldmodel LeWM checkpoint folder) or vjepa2-ac (a vjepa2 .pt with encoder and predictor)",
        };
        family.AcceptOnlyFromAmong([.. Importers.Keys]);
        var source = new Argument<string>("checkpoint")
        {
            Description = "lewm: the checkpoint folder, holding weights.pt and config.json as stable-worldmodel's save_pretrained writes them; " +
                          "vjepa2-ac: the .pt file holding {\"encoder\": state dict, \"predictor\": state dict}",
        };
        var arch = new Option<string?>("--arch")
        {
            Description = "vjepa2-ac: JSON naming the authors' constructors and their arguments ({\"encoder\": {\"name\", \"kwargs\"}, " +
                          "\"predictor\": {\"name\", \"kwargs\"}}) for sizes other than the published ViT-g AC model",
        };
        var output = new Option<string>("--out") { Description = "The model directory to create (must not exist, or be empty)", Required = true };
        var stats = new Option<string?>("--action-stats")
        {
            Description = "The training data's action statistics: JSON {\"mean\": [...], \"std\": [...]} (one value per checkpoint action dim), " +
                          "or an HDF5 file with an 'action' dataset (stable-worldmodel's layout) they are computed from as its normaliser does. " +
                          "Without it the planner's actions are taken as already normalised (mean 0, std 1)",
        };
        var dims = new Option<string?>("--action-dims")
        {
            Description = "Which of the arm's axes (dx, dy, dz, droll, dpitch, dyaw, gripper) the checkpoint's action dims are, in its order, " +
                          "comma-separated (default: the first N); the others are held at zero",
        };
        var name = new Option<string?>("--name") { Description = "The model's name in model.json (default: the output directory's name)" };
        var frameskip = new Option<int?>("--frameskip")
        {
            Description = "Low-level actions per predictor step (the training frameskip): a checkpoint records only their product with the " +
                          "action dims (action_encoder.input_dim); default 5 (LeWM's) when it divides it, else from --action-stats or --action-dims",
        };
        CliErrors.Bounded(frameskip, 1);
        var history = new Option<int?>("--history") { Description = "Context frames the runtime gives the predictor (default and maximum: the checkpoint's predictor num_frames)" };
        CliErrors.Bounded(history, 1);
        var lewmOnly = new Option[] { stats, dims, frameskip, history };
        var python = new Option<string?>("--python")
        {
            Description = $"The Python interpreter with PyTorch (1.13 or 2.x) and ONNX to run the importer (default: $ROBOTCTL_PYTHON, else {ModelTools.DefaultPython}; " +
                          "scripts/setup --models installs Debian's)",
        };
        var command = new Command("import",
            "Import an authors' checkpoint as a robotctl model directory (model.json, encoder.onnx, predictor.onnx, parity references), " +
            "then check it as `model check` does. lewm: a stable-worldmodel LeWM checkpoint (weights.pt + config.json); planner " +
            "defaults are the authors' PushT planning config (CEM 300 samples, top 30, 30 iterations, horizon 5, receding 5; cost: " +
            "squared error of the last predicted latent, summed). vjepa2-ac: a facebookresearch/vjepa2 action-conditioned checkpoint; " +
            "planner defaults are the authors' MPC's (models/README.md). Bad input: one line, exit 2, nothing left behind.");
        command.Arguments.Add(family);
        command.Arguments.Add(source);
        foreach (var o in new Option[] { output, stats, dims, frameskip, name, history, arch, python }) command.Options.Add(o);
        command.Validators.Add(c =>
        {
            var kind = c.GetValue(family);
            if (kind != "lewm" && lewmOnly.FirstOrDefault(o => c.GetResult(o) is not null) is { } o)
                c.AddError($"{o.Name}: only for lewm checkpoints, found with {kind}");
            if (kind != "vjepa2-ac" && c.GetResult(arch) is not null) c.AddError($"--arch: only for vjepa2-ac checkpoints, found with {kind}");
        });
        command.SetAction(r => ModelCommands.Guard("model import", Console.Error, () =>
        {
            var args = new List<string> { RobotCtlHome.Resolve(r.GetValue(source)!), "--out", Path.GetFullPath(r.GetValue(output)!) };
            if (r.GetValue(stats) is { } s) args.AddRange(["--action-stats", RobotCtlHome.Resolve(s)]);
            if (r.GetValue(dims) is { } d) args.AddRange(["--action-dims", d]);
            if (r.GetValue(name) is { } n) args.AddRange(["--name", n]);
            if (r.GetValue(frameskip) is { } f) args.AddRange(["--frameskip", f.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            if (r.GetValue(history) is { } h) args.AddRange(["--history", h.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            if (r.GetValue(arch) is { } a) args.AddRange(["--arch", RobotCtlHome.Resolve(a)]);
            return Import(Importers[r.GetValue(family)!], r.GetValue(python), args, Path.GetFullPath(r.GetValue(output)!), Console.Out, Console.Error);
        }));
        return command;
    }

    private static int Import(Importer importer, string? python, IReadOnlyList<string> importerArgs, string outputDirectory, TextWriter stdout, TextWriter stderr)
    {
        var tools = ModelTools.Require(python, importer.Module, "import torch, onnx, numpy", "Debian's PyTorch and ONNX", "torch and onnx");

        // The importer's progress goes through as it comes; its verdict ("<family> import: <reason>") is said once, as ours.
        var verdicts = new List<string>();
        var progress = new LineFilter(line =>
        {
            if (line.StartsWith(importer.Prefix, StringComparison.Ordinal)) verdicts.Add(line[importer.Prefix.Length..]);
            else stderr.WriteLine(line);
        });
        // --no-model-check: the importer would run `robotctl model check` on its result; this does it below, once.
        var code = tools.Run([.. importerArgs, "--no-model-check"], stdout, progress);
        if (code != 0)
        {
            // Exit 2: bad input, 1: the import failed; either way the importer left nothing behind.
            var reason = verdicts.Count > 0 ? string.Join("; ", verdicts) : $"the importer exited with {code} without a reason (see the lines above)";
            stderr.WriteLine($"robotctl model import: {reason}");
            return code == ExitCodes.BadInput ? ExitCodes.BadInput : ExitCodes.Failed;
        }
        foreach (var v in verdicts) stderr.WriteLine($"robotctl model import: {v}");

        // The importer wrote PyTorch's outputs as reference cases and left their check to this: the graphs against them
        // with the ONNX Runtime the runtime will use.
        var report = ModelCheck.Run(outputDirectory, ModelCommands.Options(null, null));
        if (report.Usable)
        {
            var parity = report.References is { } cases ? $", {cases.Count} reference cases match PyTorch" : "";
            stdout.WriteLine($"model check: usable ({report.Provider}{parity}); next: robotctl model check {outputDirectory}, robotctl plan --model {outputDirectory} ...");
            return 0;
        }
        stderr.WriteLine($"robotctl model import: the imported model does not pass model check, removed {outputDirectory}: {string.Join("; ", report.Problems)}");
        Directory.Delete(outputDirectory, recursive: true);
        return ExitCodes.Failed;
    }

    /// <summary>A writer that hands each whole line to <paramref name="onLine"/> (the importer's stderr, line by line).</summary>
    private sealed class LineFilter(Action<string> onLine) : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;
        public override void WriteLine(string? value) => onLine(value ?? "");
        public override void Write(char value) => throw new NotSupportedException("line-wise only");
    }
}
