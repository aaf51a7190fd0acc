using System.Diagnostics;
using RobotCtl.Runtime.Composition;

namespace RobotCtl.Host.Commands;

/// <summary>
/// One module of the model tools' Python package (models/robotctl_models) and the interpreter that runs it: `model
/// import` and `model quantize` start their tool through here. A missing interpreter or module, or one without what the
/// tool imports, is a setup problem said in one line, not a Python traceback.
/// </summary>
internal sealed class ModelTools
{
    public const string DefaultPython = "/usr/bin/python3";
    public const string Package = "robotctl_models";

    private readonly string _interpreter, _models, _module;

    private ModelTools(string interpreter, string models, string module) => (_interpreter, _models, _module) = (interpreter, models, module);

    /// <param name="python">--python, else $ROBOTCTL_PYTHON, else Debian's interpreter.</param>
    /// <param name="probe">Python that imports what the tool needs (e.g. "import onnx, numpy").</param>
    /// <param name="install">What scripts/setup --models installs for it, for the message.</param>
    /// <param name="needs">What another interpreter must have, for the message.</param>
    public static ModelTools Require(string? python, string module, string probe, string install, string needs)
    {
        var interpreter = python ?? Environment.GetEnvironmentVariable("ROBOTCTL_PYTHON") ?? DefaultPython;
        var models = Path.Combine(RobotCtlHome.Path, "models");
        var script = Path.Combine(models, Package, module + ".py");
        if (!File.Exists(script)) throw new InvalidOperationException($"the model tool {script} is missing from this robotctl checkout");
        var tools = new ModelTools(interpreter, models, module);
        var said = new StringWriter();
        int code;
        try
        {
            code = tools.RunPython(["-c", probe], TextWriter.Null, said);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ArgumentException($"--python {interpreter}: cannot start it ({e.Message}); install {install} with scripts/setup --models, or name an interpreter that has {needs}");
        }
        if (code != 0)
        {
            var last = said.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? $"exit {code}";
            throw new ArgumentException($"--python {interpreter}: it lacks what {module} needs ({last}); install {install} with scripts/setup --models, or name an interpreter that has {needs}");
        }
        return tools;
    }

    /// <summary>Runs the module (python -m robotctl_models.MODULE ARGS), its output line by line to the writers; returns its exit code.</summary>
    public int Run(IEnumerable<string> arguments, TextWriter stdout, TextWriter stderr) =>
        RunPython(["-m", $"{Package}.{_module}", .. arguments], stdout, stderr);

    /// <summary>Runs the interpreter with the package's parent folder first on its module path.</summary>
    private int RunPython(IEnumerable<string> arguments, TextWriter stdout, TextWriter stderr)
    {
        var info = new ProcessStartInfo(_interpreter) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        var inherited = Environment.GetEnvironmentVariable("PYTHONPATH");
        info.Environment["PYTHONPATH"] = string.IsNullOrEmpty(inherited) ? _models : $"{_models}{Path.PathSeparator}{inherited}";
        // Debian's OpenBLAS takes some virtual CPUs for "Prescott" (~5x slower products); name the kernel the CPU has, as
        // scripts/train-workcell does.
        if (Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") is null)
        {
            if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported) info.Environment["OPENBLAS_CORETYPE"] = "SKYLAKEX";
            else if (System.Runtime.Intrinsics.X86.Avx2.IsSupported) info.Environment["OPENBLAS_CORETYPE"] = "HASWELL";
        }
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {_interpreter}");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) stdout.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) stderr.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.WaitForExit();
        return process.ExitCode;
    }
}
