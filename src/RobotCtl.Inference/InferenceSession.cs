using System.Runtime.InteropServices;
using RobotCtl.Inference.Native;

namespace RobotCtl.Inference;

/// <summary>A tensor for one named graph input or output in <see cref="InferenceSession.Run"/>.</summary>
public readonly record struct NamedTensor(string Name, OrtTensor Tensor);

/// <summary>
/// One ONNX graph loaded into ONNX Runtime. <see cref="Run"/> and <see cref="Run(OrtBinding)"/> may be called from
/// several threads at once (ONNX Runtime sessions are thread-safe for runs) as long as each call has its own tensors.
/// </summary>
public sealed unsafe class InferenceSession : IDisposable
{
    private readonly OrtSessionHandle _session;
    private readonly NativeNames _inputNames, _outputNames;

    private InferenceSession(string path, OrtSessionHandle session, ExecutionProvider provider, OrtLibraryInfo library)
    {
        ModelPath = path;
        _session = session;
        Provider = provider;
        Library = library;
        Inputs = ReadMetadata(isInput: true);
        Outputs = ReadMetadata(isInput: false);
        _inputNames = new NativeNames(Inputs.Select(i => i.Name));
        _outputNames = new NativeNames(Outputs.Select(o => o.Name));
        // The names are freed only after the last run that holds the session has finished.
        _session.KeepAlive(_inputNames.Memory, _outputNames.Memory);
    }

    public string ModelPath { get; }

    /// <summary>The provider the session actually runs on (Auto resolved).</summary>
    public ExecutionProvider Provider { get; }

    public OrtLibraryInfo Library { get; }

    public IReadOnlyList<TensorMetadata> Inputs { get; }
    public IReadOnlyList<TensorMetadata> Outputs { get; }

    /// <summary>
    /// Loads the ONNX graph at <paramref name="modelPath"/>. <paramref name="warn"/> hears about fallbacks worth a
    /// warning (Auto with a GPU build that cannot start CUDA; Auto on a CPU build is quiet).
    /// </summary>
    /// <exception cref="InferenceSetupException">library missing, or the requested provider is not in the build.</exception>
    /// <exception cref="OrtException">the file is missing or is not a valid ONNX graph.</exception>
    public static InferenceSession Open(string modelPath, InferenceOptions? options = null, Action<string>? warn = null)
    {
        options ??= InferenceOptions.Default;
        var library = OnnxRuntime.Load(options.OnnxRuntimeLibrary);
        using var sessionOptions = CreateSessionOptions(options);
        var provider = AppendProvider(sessionOptions, options, library, warn);

        var session = new OrtSessionHandle();
        var path = NativeMethods.AllocUtf8(modelPath);
        try
        {
            nint ptr;
            NativeMethods.Check(NativeMethods.CreateSession(OnnxRuntime.Env.DangerousGetHandle(), path,
                sessionOptions.DangerousGetHandle(), &ptr));
            session.Attach(ptr);
        }
        finally
        {
            NativeMemory.Free(path);
        }
        try
        {
            return new InferenceSession(modelPath, session, provider, library);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Runs the graph: reads <paramref name="inputs"/>, writes into the preallocated <paramref name="outputs"/>.</summary>
    public void Run(ReadOnlySpan<NamedTensor> inputs, ReadOnlySpan<NamedTensor> outputs)
    {
        bool added = false;
        try
        {
            _session.DangerousAddRef(ref added);
            var inNames = stackalloc byte*[inputs.Length];
            var inValues = stackalloc nint[inputs.Length];
            var outNames = stackalloc byte*[outputs.Length];
            var outValues = stackalloc nint[outputs.Length];
            for (int i = 0; i < inputs.Length; i++)
            {
                inNames[i] = _inputNames.Find(inputs[i].Name, ModelPath, "input");
                inValues[i] = inputs[i].Tensor.Value.DangerousGetHandle();
            }
            for (int i = 0; i < outputs.Length; i++)
            {
                outNames[i] = _outputNames.Find(outputs[i].Name, ModelPath, "output");
                outValues[i] = outputs[i].Tensor.Value.DangerousGetHandle();
            }
            NativeMethods.Check(NativeMethods.Run(_session.DangerousGetHandle(), 0, inNames, inValues, (nuint)inputs.Length,
                outNames, (nuint)outputs.Length, outValues));
        }
        finally
        {
            if (added) _session.DangerousRelease();
        }
        // The values must outlive the native call.
        foreach (var t in inputs) GC.KeepAlive(t.Tensor);
        foreach (var t in outputs) GC.KeepAlive(t.Tensor);
    }

    /// <summary>Creates an IoBinding: bind tensors once, then <see cref="Run(OrtBinding)"/> repeatedly.</summary>
    public OrtBinding CreateBinding()
    {
        var binding = new OrtIoBindingHandle();
        bool added = false;
        _session.DangerousAddRef(ref added);
        try
        {
            nint ptr;
            NativeMethods.Check(NativeMethods.CreateIoBinding(_session.DangerousGetHandle(), &ptr));
            binding.Attach(ptr);
            binding.KeepAlive(_session);
        }
        finally
        {
            _session.DangerousRelease();
        }
        return new OrtBinding(this, binding);
    }

    /// <summary>Runs with the tensors bound to <paramref name="binding"/>; allocates nothing.</summary>
    public void Run(OrtBinding binding)
    {
        if (!ReferenceEquals(binding.Session, this))
            throw new ArgumentException("the binding belongs to another session", nameof(binding));
        bool session = false, bound = false;
        try
        {
            _session.DangerousAddRef(ref session);
            binding.Handle.DangerousAddRef(ref bound);
            NativeMethods.Check(NativeMethods.RunWithBinding(_session.DangerousGetHandle(), 0, binding.Handle.DangerousGetHandle()));
        }
        finally
        {
            if (bound) binding.Handle.DangerousRelease();
            if (session) _session.DangerousRelease();
        }
    }

    /// <summary>
    /// Runs over raw values the caller made (null output values: ONNX Runtime allocates them; the caller releases them).
    /// Names are looked up under the session reference, so a concurrent Dispose cannot free them mid-call.
    /// </summary>
    internal void RunRaw(ReadOnlySpan<string> inputNames, nint* inValues, ReadOnlySpan<string> outputNames, nint* outValues)
    {
        bool added = false;
        try
        {
            _session.DangerousAddRef(ref added);
            var inNames = stackalloc byte*[inputNames.Length];
            var outNames = stackalloc byte*[outputNames.Length];
            for (int i = 0; i < inputNames.Length; i++) inNames[i] = _inputNames.Find(inputNames[i], ModelPath, "input");
            for (int i = 0; i < outputNames.Length; i++) outNames[i] = _outputNames.Find(outputNames[i], ModelPath, "output");
            NativeMethods.Check(NativeMethods.Run(_session.DangerousGetHandle(), 0, inNames, inValues, (nuint)inputNames.Length,
                outNames, (nuint)outputNames.Length, outValues));
        }
        finally
        {
            if (added) _session.DangerousRelease();
        }
    }

    /// <summary>
    /// Runs once with managed inputs and an output ONNX Runtime allocates, returning that output's shape and a copy of
    /// its values: for dry runs, where the shape the graph really produces is what is being checked.
    /// </summary>
    internal (long[] Shape, float[] Data) RunOnce(IReadOnlyList<(string Name, float[] Data, long[] Shape)> inputs, string output)
    {
        var pins = inputs.Select(i => System.Runtime.InteropServices.GCHandle.Alloc(i.Data, GCHandleType.Pinned)).ToArray();
        var values = new nint[inputs.Count];
        nint result = 0;
        try
        {
            for (int i = 0; i < inputs.Count; i++)
                values[i] = OrtTensor.CreateRawValue((float*)pins[i].AddrOfPinnedObject(), inputs[i].Data.Length, inputs[i].Shape);
            var names = inputs.Select(i => i.Name).ToArray();
            fixed (nint* v = values)
            {
                RunRaw(names, v, new ReadOnlySpan<string>(in output), &result);
            }
            nint info;
            NativeMethods.Check(NativeMethods.GetTensorTypeAndShape(result, &info));
            using var infoHandle = new OrtTensorTypeAndShapeInfoHandle();
            infoHandle.Attach(info);
            var (type, shape, _) = ReadTensorInfo(info);
            if (type != TensorElementType.Float)
                throw new OrtException(OrtErrorCode.InvalidArgument, $"output '{output}' is {TensorMetadata.TypeName(type)}, not float32");
            long count = shape.Aggregate(1L, (a, b) => a * b);
            void* data;
            NativeMethods.Check(NativeMethods.GetTensorMutableData(result, &data));
            return (shape, new ReadOnlySpan<float>(data, (int)count).ToArray());
        }
        finally
        {
            if (result != 0) NativeMethods.ReleaseValue(result);
            foreach (var v in values) if (v != 0) NativeMethods.ReleaseValue(v);
            foreach (var p in pins) p.Free();
        }
    }

    /// <summary>Releases the session once no run or binding uses it any more.</summary>
    public void Dispose()
    {
        _session.Dispose();
        _inputNames.Dispose();
        _outputNames.Dispose();
    }

    private static OrtSessionOptionsHandle CreateSessionOptions(InferenceOptions options)
    {
        var handle = new OrtSessionOptionsHandle();
        nint ptr;
        NativeMethods.Check(NativeMethods.CreateSessionOptions(&ptr));
        handle.Attach(ptr);
        try
        {
            NativeMethods.Check(NativeMethods.SetIntraOpNumThreads(ptr, Math.Max(0, options.IntraOpThreads)));
            NativeMethods.Check(NativeMethods.SetInterOpNumThreads(ptr, Math.Max(0, options.InterOpThreads)));
            NativeMethods.Check(NativeMethods.SetSessionGraphOptimizationLevel(ptr, (int)options.Optimization));
            NativeMethods.Check(NativeMethods.SetSessionExecutionMode(ptr, (int)options.ExecutionMode));
            AddConfigEntry(handle, "session.intra_op.allow_spinning", options.AllowSpinning ? "1" : "0");
            if (!string.IsNullOrEmpty(options.ProfileFilePrefix))
            {
                var prefix = NativeMethods.AllocUtf8(options.ProfileFilePrefix);
                try
                {
                    NativeMethods.Check(NativeMethods.EnableProfiling(ptr, prefix));
                }
                finally
                {
                    NativeMemory.Free(prefix);
                }
            }
        }
        catch
        {
            handle.Dispose();
            throw;
        }
        return handle;
    }

    private static void AddConfigEntry(OrtSessionOptionsHandle options, string key, string value)
    {
        var k = NativeMethods.AllocUtf8(key);
        var v = NativeMethods.AllocUtf8(value);
        try
        {
            NativeMethods.Check(NativeMethods.AddSessionConfigEntry(options.DangerousGetHandle(), k, v));
        }
        finally
        {
            NativeMemory.Free(k);
            NativeMemory.Free(v);
        }
    }

    private static string GpuBuildHint =>
        $"point robotctl at a GPU build of ONNX Runtime with the {OnnxRuntime.EnvironmentVariable} environment variable " +
        $"or the {OnnxRuntime.ConfigurationKey} setting (the path of its libonnxruntime.so.1)";

    private static ExecutionProvider AppendProvider(OrtSessionOptionsHandle options, InferenceOptions settings,
        OrtLibraryInfo library, Action<string>? warn)
    {
        switch (settings.Provider)
        {
            case ExecutionProvider.Cpu:
                return ExecutionProvider.Cpu;
            // Auto on a CPU build is the ordinary case, not a problem: it runs on the CPU without a word (the provider in
            // use is still reported by the session). Only a GPU build whose CUDA fails to start is worth a warning.
            case ExecutionProvider.Auto when !library.ListsCuda:
                return ExecutionProvider.Cpu;
            case ExecutionProvider.Auto:
                try
                {
                    AppendCuda(options, settings.DeviceId);
                    return ExecutionProvider.Cuda;
                }
                catch (OrtException e)
                {
                    if (HasCudaProviderLibrary(library))
                        warn?.Invoke($"execution provider Auto: {library.Path} is a GPU build but cannot start CUDA ({Brief(e.NativeMessage)}); running on CPU");
                    return ExecutionProvider.Cpu;
                }
            case ExecutionProvider.Cuda:
                if (!library.ListsCuda)
                    throw new InferenceSetupException(
                        $"execution provider Cuda was requested, but ONNX Runtime {library.Version} at {library.Path} is a " +
                        $"build without CUDA (providers: {string.Join(", ", library.AvailableProviders)}); {GpuBuildHint}, " +
                        "or choose the Cpu or Auto provider.");
                Try(() => AppendCuda(options, settings.DeviceId), "Cuda", library);
                return ExecutionProvider.Cuda;
            case ExecutionProvider.TensorRt:
                if (!library.ListsTensorRt)
                    throw new InferenceSetupException(
                        $"execution provider TensorRt was requested, but ONNX Runtime {library.Version} at {library.Path} " +
                        $"is a build without TensorRT (providers: {string.Join(", ", library.AvailableProviders)}); " +
                        $"{GpuBuildHint}, or choose the Cuda, Cpu or Auto provider.");
                Try(() => AppendTensorRt(options, settings.DeviceId), "TensorRt", library);
                // Nodes TensorRT does not take fall back to CUDA rather than to the CPU.
                if (library.ListsCuda) Try(() => AppendCuda(options, settings.DeviceId), "Cuda", library);
                return ExecutionProvider.TensorRt;
            default:
                throw new ArgumentOutOfRangeException(nameof(settings), settings.Provider, "unknown execution provider");
        }
    }

    private static void Try(Action append, string provider, OrtLibraryInfo library)
    {
        try
        {
            append();
        }
        catch (OrtException e)
        {
            throw new InferenceSetupException(
                $"execution provider {provider} was requested, but ONNX Runtime {library.Version} at {library.Path} cannot " +
                $"start it: {Brief(e.NativeMessage)}. The library lists the provider, but its provider libraries " +
                "(libonnxruntime_providers_*.so) or the CUDA/cuDNN" + (provider == "TensorRt" ? "/TensorRT" : "") +
                $" runtime are missing, as in the CPU package scripts/setup fetches; {GpuBuildHint}.", e);
        }
    }

    /// <summary>
    /// Whether the CUDA provider library ships next to the loaded ONNX Runtime: the CPU package lists CUDA among its
    /// providers but lacks libonnxruntime_providers_cuda.so, so only its presence means a GPU build was chosen.
    /// </summary>
    private static bool HasCudaProviderLibrary(OrtLibraryInfo library) =>
        Path.GetDirectoryName(library.Path) is { } dir && File.Exists(Path.Combine(dir, "libonnxruntime_providers_cuda.so"));

    /// <summary>An ONNX Runtime message without its source-location prefix ("/onnxruntime_src/...cc:1988 ... : FAIL : "), on one line.</summary>
    internal static string Brief(string message)
    {
        var match = System.Text.RegularExpressions.Regex.Match(message, @"\[ONNXRuntimeError\] : \d+ : \w+ : ");
        var text = match.Success ? message[(match.Index + match.Length)..] : message;
        return string.Join(" ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    private static readonly Dictionary<ExecutionProvider, string?> ProviderProblems = [];

    /// <summary>
    /// Why <paramref name="provider"/> cannot start with the loaded library (null: it can), found by appending it to a
    /// scratch session options object; cached. Listing a provider is not enough: ONNX Runtime's CPU package lists CUDA
    /// and TensorRT but lacks their provider libraries.
    /// </summary>
    public static string? ProviderProblem(ExecutionProvider provider, InferenceOptions? options = null)
    {
        options ??= InferenceOptions.Default;
        var library = OnnxRuntime.Load(options.OnnxRuntimeLibrary);
        lock (ProviderProblems)
        {
            if (ProviderProblems.TryGetValue(provider, out var known)) return known;
            string? problem = null;
            try
            {
                using var scratch = CreateSessionOptions(InferenceOptions.Default);
                AppendProvider(scratch, options with { Provider = provider }, library, warn: null);
            }
            catch (InferenceSetupException e)
            {
                problem = e.Message;
            }
            ProviderProblems[provider] = problem;
            return problem;
        }
    }

    private static void AppendCuda(OrtSessionOptionsHandle options, int deviceId)
    {
        using var cuda = new OrtCudaOptionsHandle();
        nint ptr;
        NativeMethods.Check(NativeMethods.CreateCudaOptions(&ptr));
        cuda.Attach(ptr);
        SetProviderOption(ptr, "device_id", deviceId, NativeMethods.UpdateCudaOptions);
        NativeMethods.Check(NativeMethods.AppendCudaV2(options.DangerousGetHandle(), ptr));
    }

    private static void AppendTensorRt(OrtSessionOptionsHandle options, int deviceId)
    {
        using var trt = new OrtTensorRtOptionsHandle();
        nint ptr;
        NativeMethods.Check(NativeMethods.CreateTensorRtOptions(&ptr));
        trt.Attach(ptr);
        SetProviderOption(ptr, "device_id", deviceId, NativeMethods.UpdateTensorRtOptions);
        NativeMethods.Check(NativeMethods.AppendTensorRtV2(options.DangerousGetHandle(), ptr));
    }

    private static void SetProviderOption(nint providerOptions, string key, int value,
        delegate* unmanaged[Cdecl]<nint, byte**, byte**, nuint, nint> update)
    {
        var k = NativeMethods.AllocUtf8(key);
        var v = NativeMethods.AllocUtf8(value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            NativeMethods.Check(update(providerOptions, &k, &v, 1));
        }
        finally
        {
            NativeMemory.Free(k);
            NativeMemory.Free(v);
        }
    }

    private TensorMetadata[] ReadMetadata(bool isInput)
    {
        var s = _session.DangerousGetHandle();
        nuint count;
        NativeMethods.Check(isInput ? NativeMethods.SessionGetInputCount(s, &count) : NativeMethods.SessionGetOutputCount(s, &count));
        var result = new TensorMetadata[(int)count];
        for (nuint i = 0; i < count; i++)
        {
            byte* name;
            NativeMethods.Check(isInput
                ? NativeMethods.SessionGetInputName(s, i, OnnxRuntime.DefaultAllocator, &name)
                : NativeMethods.SessionGetOutputName(s, i, OnnxRuntime.DefaultAllocator, &name));
            string text;
            try
            {
                text = Marshal.PtrToStringUTF8((nint)name) ?? "";
            }
            finally
            {
                NativeMethods.Check(NativeMethods.AllocatorFree(OnnxRuntime.DefaultAllocator, name));
            }
            using var typeInfo = new OrtTypeInfoHandle();
            nint info;
            NativeMethods.Check(isInput
                ? NativeMethods.SessionGetInputTypeInfo(s, i, &info)
                : NativeMethods.SessionGetOutputTypeInfo(s, i, &info));
            typeInfo.Attach(info);
            result[(int)i] = Describe(text, info);
        }
        return result;
    }

    /// <summary>Element type and shape of a type info (the tensor info it casts to is owned by the type info).</summary>
    private static TensorMetadata Describe(string name, nint typeInfo)
    {
        nint tensorInfo;
        NativeMethods.Check(NativeMethods.CastTypeInfoToTensorInfo(typeInfo, &tensorInfo));
        if (tensorInfo == 0) return new TensorMetadata(name, false, TensorElementType.Undefined, [], []);
        var (type, shape, names) = ReadTensorInfo(tensorInfo);
        return new TensorMetadata(name, true, type, shape, names);
    }

    internal static (TensorElementType Type, long[] Shape, string[] Names) ReadTensorInfo(nint tensorInfo)
    {
        int type;
        NativeMethods.Check(NativeMethods.GetTensorElementType(tensorInfo, &type));
        nuint rank;
        NativeMethods.Check(NativeMethods.GetDimensionsCount(tensorInfo, &rank));
        var shape = new long[(int)rank];
        var names = new string[(int)rank];
        var symbolic = stackalloc byte*[Math.Max(1, (int)rank)];
        fixed (long* dims = shape)
        {
            NativeMethods.Check(NativeMethods.GetDimensions(tensorInfo, dims, rank));
        }
        NativeMethods.Check(NativeMethods.GetSymbolicDimensions(tensorInfo, symbolic, rank));
        for (int d = 0; d < (int)rank; d++) names[d] = Marshal.PtrToStringUTF8((nint)symbolic[d]) ?? "";
        return ((TensorElementType)type, shape, names);
    }

    /// <summary>Graph input/output names as native UTF-8 strings in one block, made once so runs need no marshalling.</summary>
    private sealed class NativeNames : IDisposable
    {
        private readonly string[] _names;
        private readonly int[] _offsets;

        public NativeNames(IEnumerable<string> names)
        {
            _names = names.ToArray();
            _offsets = new int[_names.Length];
            int total = 0;
            for (int i = 0; i < _names.Length; i++)
            {
                _offsets[i] = total;
                total += System.Text.Encoding.UTF8.GetByteCount(_names[i]) + 1;
            }
            Memory = new NativeBufferHandle((nuint)total);
            var block = (byte*)Memory.DangerousGetHandle();
            for (int i = 0; i < _names.Length; i++)
            {
                int written = System.Text.Encoding.UTF8.GetBytes(_names[i], new Span<byte>(block + _offsets[i], total - _offsets[i]));
                block[_offsets[i] + written] = 0;
            }
        }

        public NativeBufferHandle Memory { get; }

        public byte* Find(string name, string model, string kind)
        {
            for (int i = 0; i < _names.Length; i++)
                if (string.Equals(_names[i], name, StringComparison.Ordinal))
                    return (byte*)Memory.DangerousGetHandle() + _offsets[i];
            throw new ArgumentException(
                $"{model} has no {kind} named '{name}' (it has: {string.Join(", ", _names)})", nameof(name));
        }

        public void Dispose() => Memory.Dispose();
    }
}
