using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Ort = Microsoft.ML.OnnxRuntime;
using OrtElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace RobotCtl.Inference;

/// <summary>
/// One ONNX graph loaded into ONNX Runtime (the managed API of the NuGet package; it wraps ONNX Runtime's own
/// InferenceSession). <see cref="Run"/> and <see cref="Run(OrtBinding)"/> may be called from several threads at once
/// (ONNX Runtime sessions are thread-safe for runs) as long as each call has its own tensors or binding. Dispose only
/// after the last run has returned.
/// </summary>
public sealed class OnnxGraph : IDisposable
{
    private readonly Ort.InferenceSession _session;
    // One RunOptions for every run: it is only read during a run, and a new one per run would be a managed allocation.
    private readonly RunOptions _runOptions = new();

    private OnnxGraph(string path, Ort.InferenceSession session, ExecutionProvider provider, OrtLibraryInfo library)
    {
        ModelPath = path;
        _session = session;
        Provider = provider;
        Library = library;
        Inputs = session.InputNames.Select(n => Describe(n, session.InputMetadata[n])).ToArray();
        Outputs = session.OutputNames.Select(n => Describe(n, session.OutputMetadata[n])).ToArray();
    }

    public string ModelPath { get; }

    /// <summary>The provider the session actually runs on (Auto resolved).</summary>
    public ExecutionProvider Provider { get; }

    public OrtLibraryInfo Library { get; }

    public IReadOnlyList<TensorMetadata> Inputs { get; }
    public IReadOnlyList<TensorMetadata> Outputs { get; }

    /// <summary>
    /// Loads the ONNX graph at <paramref name="modelPath"/>. <paramref name="warn"/> hears about fallbacks worth a
    /// warning (Auto on the CUDA build when CUDA cannot start; Auto on the CPU build is quiet).
    /// </summary>
    /// <exception cref="InferenceSetupException">ONNX Runtime cannot load, or the requested provider cannot start.</exception>
    /// <exception cref="OrtException">the file is missing or is not a valid ONNX graph.</exception>
    public static OnnxGraph Open(string modelPath, InferenceOptions? options = null, Action<string>? warn = null)
    {
        options ??= InferenceOptions.Default;
        var library = OnnxRuntime.Load();
        if (OnnxRuntime.RemovedEnvironmentWarning(Environment.GetEnvironmentVariable(OnnxRuntime.RemovedEnvironmentVariable)) is { } stale)
            warn?.Invoke(stale);
        switch (options.Provider)
        {
            case ExecutionProvider.Cpu:
            // Auto on the CPU build is the ordinary case, not a problem: CPU without a word (Provider still says it).
            case ExecutionProvider.Auto when !OnnxRuntimeBuild.IsCuda:
                return Create(modelPath, options, ExecutionProvider.Cpu, library);
            case ExecutionProvider.Auto:
                try
                {
                    return Create(modelPath, options, ExecutionProvider.Cuda, library, auto: true);
                }
                catch (InferenceSetupException e)
                {
                    warn?.Invoke($"{e.Message}; running on CPU");
                    return Create(modelPath, options, ExecutionProvider.Cpu, library);
                }
            case ExecutionProvider.Cuda:
            case ExecutionProvider.TensorRt:
                if (!OnnxRuntimeBuild.IsCuda) throw new InferenceSetupException(CpuBuildMessage(options.Provider, library));
                return Create(modelPath, options, options.Provider, library);
            default:
                throw new ArgumentOutOfRangeException(nameof(options), options.Provider, "unknown execution provider");
        }
    }

    private static OnnxGraph Create(string modelPath, InferenceOptions options, ExecutionProvider provider,
        OrtLibraryInfo library, bool auto = false)
    {
        using var sessionOptions = CreateSessionOptions(options);
        AppendProvider(sessionOptions, provider, options.DeviceId, library, auto);
        Ort.InferenceSession session;
        try
        {
            session = new Ort.InferenceSession(modelPath, sessionOptions);
        }
        catch (OnnxRuntimeException e) when (provider != ExecutionProvider.Cpu && MentionsCuda(e.Message))
        {
            // The provider library loaded but could not start (no GPU, driver too old for CUDA 13, ...).
            throw new InferenceSetupException(CannotStartMessage(provider, library, e.Message, auto), e);
        }
        catch (OnnxRuntimeException e)
        {
            throw OrtException.From(e);
        }
        try
        {
            return new OnnxGraph(modelPath, session, provider, library);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Runs the graph: reads <paramref name="inputs"/>, writes into the preallocated <paramref name="outputs"/>.</summary>
    /// <remarks>Allocates its name and value lists per call; repeated runs belong on an <see cref="OrtBinding"/>.</remarks>
    public void Run(ReadOnlySpan<NamedTensor> inputs, ReadOnlySpan<NamedTensor> outputs)
    {
        var inNames = new string[inputs.Length];
        var inValues = new OrtValue[inputs.Length];
        var outNames = new string[outputs.Length];
        var outValues = new OrtValue[outputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            RequireName(inputs[i].Name, input: true);
            (inNames[i], inValues[i]) = (inputs[i].Name, inputs[i].Tensor.Value);
        }
        for (int i = 0; i < outputs.Length; i++)
        {
            RequireName(outputs[i].Name, input: false);
            (outNames[i], outValues[i]) = (outputs[i].Name, outputs[i].Tensor.Value);
        }
        try
        {
            _session.Run(_runOptions, inNames, inValues, outNames, outValues);
        }
        catch (OnnxRuntimeException e)
        {
            throw OrtException.From(e);
        }
    }

    /// <summary>Runs over values the caller made for this call (names checked first).</summary>
    internal void RunValues(string[] inputNames, OrtValue[] inputs, string outputName, OrtValue output)
    {
        foreach (var name in inputNames) RequireName(name, input: true);
        RequireName(outputName, input: false);
        try
        {
            _session.Run(_runOptions, inputNames, inputs, [outputName], [output]);
        }
        catch (OnnxRuntimeException e)
        {
            throw OrtException.From(e);
        }
    }

    /// <summary>Creates an IoBinding: bind tensors once, then <see cref="Run(OrtBinding)"/> repeatedly.</summary>
    public OrtBinding CreateBinding() => new(this, _session.CreateIoBinding());

    /// <summary>Runs with the tensors bound to <paramref name="binding"/>; allocates nothing managed.</summary>
    public void Run(OrtBinding binding)
    {
        if (!ReferenceEquals(binding.Graph, this))
            throw new ArgumentException("the binding belongs to another session", nameof(binding));
        ObjectDisposedException.ThrowIf(binding.IsDisposed, binding);
        try
        {
            _session.RunWithBinding(_runOptions, binding.Native);
        }
        catch (OnnxRuntimeException e)
        {
            throw OrtException.From(e);
        }
    }

    /// <summary>
    /// Runs once with managed inputs and an output ONNX Runtime allocates, returning that output's shape and a copy of
    /// its values: for dry runs, where the shape the graph really produces is what is being checked.
    /// </summary>
    internal (long[] Shape, float[] Data) RunOnce(IReadOnlyList<(string Name, float[] Data, long[] Shape)> inputs, string output)
    {
        foreach (var i in inputs) RequireName(i.Name, input: true);
        RequireName(output, input: false);
        var values = new List<OrtValue>(inputs.Count);
        try
        {
            foreach (var i in inputs) values.Add(OrtValue.CreateTensorValueFromMemory(i.Data, i.Shape));
            using var results = _session.Run(_runOptions, inputs.Select(i => i.Name).ToArray(), values, [output]);
            var result = results.First();
            var info = result.GetTensorTypeAndShape();
            if (info.ElementDataType != OrtElementType.Float)
                throw new OrtException(OrtErrorCode.InvalidArgument,
                    $"output '{output}' is {TensorMetadata.TypeName((TensorElementType)(int)info.ElementDataType)}, not float32");
            return (info.Shape, result.GetTensorDataAsSpan<float>().ToArray());
        }
        catch (OnnxRuntimeException e)
        {
            throw OrtException.From(e);
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    /// <summary>Unknown tensor names are refused before the native call, naming the graph and what it has.</summary>
    internal void RequireName(string name, bool input)
    {
        var names = input ? _session.InputNames : _session.OutputNames;
        for (int i = 0; i < names.Count; i++)
            if (string.Equals(names[i], name, StringComparison.Ordinal)) return;
        throw new ArgumentException(
            $"{ModelPath} has no {(input ? "input" : "output")} named '{name}' (it has: {string.Join(", ", names)})", nameof(name));
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }

    private static SessionOptions CreateSessionOptions(InferenceOptions options)
    {
        var so = new SessionOptions();
        try
        {
            so.IntraOpNumThreads = Math.Max(0, options.IntraOpThreads);
            so.InterOpNumThreads = Math.Max(0, options.InterOpThreads);
            so.GraphOptimizationLevel = options.Optimization switch
            {
                GraphOptimization.Disabled => GraphOptimizationLevel.ORT_DISABLE_ALL,
                GraphOptimization.Basic => GraphOptimizationLevel.ORT_ENABLE_BASIC,
                GraphOptimization.Extended => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                _ => GraphOptimizationLevel.ORT_ENABLE_ALL,
            };
            so.ExecutionMode = options.ExecutionMode == ExecutionMode.Parallel ? Ort.ExecutionMode.ORT_PARALLEL : Ort.ExecutionMode.ORT_SEQUENTIAL;
            so.AddSessionConfigEntry("session.intra_op.allow_spinning", options.AllowSpinning ? "1" : "0");
            so.LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
            if (!string.IsNullOrEmpty(options.ProfileFilePrefix))
            {
                // The prefix first: setting EnableProfiling hands ONNX Runtime the prefix set at that moment.
                so.ProfileOutputPathPrefix = options.ProfileFilePrefix;
                so.EnableProfiling = true;
            }
        }
        catch
        {
            so.Dispose();
            throw;
        }
        return so;
    }

    private static void AppendProvider(SessionOptions so, ExecutionProvider provider, int deviceId, OrtLibraryInfo library, bool auto = false)
    {
        try
        {
            switch (provider)
            {
                case ExecutionProvider.Cuda:
                    so.AppendExecutionProvider_CUDA(deviceId);
                    break;
                case ExecutionProvider.TensorRt:
                    so.AppendExecutionProvider_Tensorrt(deviceId);
                    // Nodes TensorRT does not take fall back to CUDA rather than to the CPU.
                    so.AppendExecutionProvider_CUDA(deviceId);
                    break;
            }
        }
        // ONNX Runtime loads the provider library (and through it CUDA/cuDNN) when the provider is appended.
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            throw new InferenceSetupException(CannotStartMessage(provider, library, e.Message, auto), e);
        }
    }

    /// <summary>One line: Cuda/TensorRt asked of the CPU build, and how to get the CUDA build.</summary>
    internal static string CpuBuildMessage(ExecutionProvider provider, OrtLibraryInfo library) =>
        $"execution provider {provider} was requested, but this robotctl was built with the CPU build of ONNX Runtime " +
        $"({library.Package} {library.Version}); {OnnxRuntimeBuild.HowToGetCuda}, or choose the Cpu or Auto provider.";

    /// <summary>
    /// Libraries the CUDA build's provider needs: the NEEDED entries of libonnxruntime_providers_cuda.so 1.31.0 (the
    /// NVIDIA driver's libcuda, CUDA 13's runtime, cuBLAS, cuRAND) plus cuDNN 9, which it opens at run time; TensorRt
    /// also needs TensorRT 10 (libonnxruntime_providers_tensorrt.so).
    /// </summary>
    internal static string[] RequiredGpuLibraries(ExecutionProvider provider) => provider == ExecutionProvider.TensorRt
        ? [.. CudaLibraries, "libnvinfer.so.10", "libnvonnxparser.so.10"]
        : CudaLibraries;

    private static readonly string[] CudaLibraries =
        ["libcuda.so.1", "libcudart.so.13", "libcublasLt.so.13", "libcublas.so.13", "libcurand.so.10", "libcudnn.so.9"];

    /// <summary>Which of <paramref name="libraries"/> the dynamic loader cannot find.</summary>
    internal static string[] MissingLibraries(IEnumerable<string> libraries) => libraries.Where(name =>
    {
        if (!NativeLibrary.TryLoad(name, out var handle)) return true;
        NativeLibrary.Free(handle);
        return false;
    }).ToArray();

    /// <summary>One line: the CUDA build cannot start the provider; names the missing libraries when some are.</summary>
    private static string CannotStartMessage(ExecutionProvider provider, OrtLibraryInfo library, string native, bool auto)
    {
        var missing = MissingLibraries(RequiredGpuLibraries(provider));
        var why = missing.Length > 0
            ? $"missing from the library path: {string.Join(", ", missing)} (the provider needs the NVIDIA driver, CUDA 13 and cuDNN 9" +
              (provider == ExecutionProvider.TensorRt ? " and TensorRT 10" : "") + "; install them or add their folder to LD_LIBRARY_PATH)"
            : ProviderLoadError(provider) is { } error ? $"its provider library does not load: {error}"
            : "its libraries load, so there is no usable GPU (or the driver is too old for CUDA 13)";
        var what = auto ? "execution provider Auto: the" : $"execution provider {provider} was requested, but the";
        return $"{what} {library.Flavour} build of ONNX Runtime {library.Version} cannot start {provider}: {why}; " +
               $"ONNX Runtime said: {Brief(native)}";
    }

    /// <summary>
    /// The dynamic loader's own words for the provider library (null: it loads). Only asked when none of the known
    /// libraries is missing, to name whatever else is; ONNX Runtime's exception only says "Failed to load shared library".
    /// </summary>
    private static string? ProviderLoadError(ExecutionProvider provider)
    {
        var file = provider == ExecutionProvider.TensorRt ? "libonnxruntime_providers_tensorrt.so" : "libonnxruntime_providers_cuda.so";
        var path = Path.Combine(AppContext.BaseDirectory, file);
        if (!File.Exists(path)) return $"{file} is not in {AppContext.BaseDirectory}";
        try
        {
            NativeLibrary.Free(NativeLibrary.Load(path));
            return null;
        }
        catch (DllNotFoundException e)
        {
            return e.Message;
        }
    }

    private static bool MentionsCuda(string message) =>
        message.Contains("CUDA", StringComparison.OrdinalIgnoreCase) || message.Contains("cudnn", StringComparison.OrdinalIgnoreCase)
        || message.Contains("TensorRT", StringComparison.OrdinalIgnoreCase);

    /// <summary>An ONNX Runtime message without its prefixes ("[ErrorCode:...]", "/onnxruntime_src/...cc:1988 ... : FAIL : "), on one line.</summary>
    internal static string Brief(string message)
    {
        var text = System.Text.RegularExpressions.Regex.Replace(message, @"^\[ErrorCode:\w+\]\s*", "");
        var match = System.Text.RegularExpressions.Regex.Match(text, @"\[ONNXRuntimeError\] : \d+ : \w+ : ");
        if (match.Success) text = text[(match.Index + match.Length)..];
        return string.Join(" ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    private static readonly Dictionary<(ExecutionProvider, int), string?> ProviderProblems = [];

    /// <summary>
    /// Why <paramref name="provider"/> cannot start in this build (null: it can be appended), found by appending it to
    /// a scratch session options object; cached. On the CUDA build a provider that appends may still fail at session
    /// creation when there is no GPU (Open reports that).
    /// </summary>
    public static string? ProviderProblem(ExecutionProvider provider, InferenceOptions? options = null)
    {
        options ??= InferenceOptions.Default;
        var library = OnnxRuntime.Load();
        if (provider is ExecutionProvider.Cpu or ExecutionProvider.Auto) return null;
        if (!OnnxRuntimeBuild.IsCuda) return CpuBuildMessage(provider, library);
        lock (ProviderProblems)
        {
            if (ProviderProblems.TryGetValue((provider, options.DeviceId), out var known)) return known;
            string? problem = null;
            try
            {
                using var scratch = new SessionOptions();
                AppendProvider(scratch, provider, options.DeviceId, library);
            }
            catch (InferenceSetupException e)
            {
                problem = e.Message;
            }
            return ProviderProblems[(provider, options.DeviceId)] = problem;
        }
    }

    private static TensorMetadata Describe(string name, NodeMetadata m)
    {
        if (!m.IsTensor) return new TensorMetadata(name, false, TensorElementType.Undefined, [], []);
        var shape = m.Dimensions.Select(d => (long)d).ToArray();
        var symbolic = m.SymbolicDimensions;
        var names = Enumerable.Range(0, shape.Length).Select(i => i < symbolic.Length ? symbolic[i] ?? "" : "").ToArray();
        return new TensorMetadata(name, true, (TensorElementType)(int)m.ElementDataType, shape, names);
    }
}
