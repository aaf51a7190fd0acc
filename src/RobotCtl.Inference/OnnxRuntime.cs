using System.Runtime.InteropServices;
using RobotCtl.Inference.Native;

namespace RobotCtl.Inference;

/// <summary>Which ONNX Runtime library a process loaded, and what it can do.</summary>
public sealed record OrtLibraryInfo(
    string Path, string Version, string FoundBy, uint ApiVersion, IReadOnlyList<string> AvailableProviders)
{
    /// <summary>
    /// The build lists the CUDA provider. Whether it can start (its provider libraries and CUDA present) is
    /// <see cref="InferenceSession.ProviderProblem"/>'s answer: the CPU package lists CUDA and TensorRT too.
    /// </summary>
    public bool ListsCuda => AvailableProviders.Contains(OnnxRuntime.CudaProviderName);
    public bool ListsTensorRt => AvailableProviders.Contains(OnnxRuntime.TensorRtProviderName);

    public override string ToString() =>
        $"ONNX Runtime {Version} from {Path} (found by {FoundBy}; providers: {string.Join(", ", AvailableProviders)})";
}

/// <summary>
/// Loads the official ONNX Runtime native library once per process and binds its C API. The library is found, in
/// order: an explicit path ("Inference:OnnxRuntimeLibrary"), the ROBOTCTL_ORT_LIBRARY environment variable, the copy
/// scripts/setup fetches ($ROBOTCTL_HOME/.tools/onnxruntime-*/, then .tools/onnxruntime-*/ in any folder above the
/// application), and finally the system library path.
/// </summary>
public static unsafe class OnnxRuntime
{
    public const string EnvironmentVariable = "ROBOTCTL_ORT_LIBRARY";
    public const string ConfigurationKey = "Inference:OnnxRuntimeLibrary";
    public const string SetupVersion = "1.30.0";
    internal const string CudaProviderName = "CUDAExecutionProvider";
    internal const string TensorRtProviderName = "TensorrtExecutionProvider";

    private static readonly Lock Gate = new();
    private static OrtLibraryInfo? _loaded;
    private static OrtEnvHandle? _env;
    private static OrtMemoryInfoHandle? _cpuMemory;
    private static nint _allocator;

    /// <summary>The library loaded so far, or null.</summary>
    public static OrtLibraryInfo? Loaded => _loaded;

    /// <summary>
    /// Loads ONNX Runtime (once; later calls return the same library) and checks its API version.
    /// </summary>
    /// <exception cref="InferenceSetupException">not found, not ONNX Runtime, too old, or a second, different library.</exception>
    public static OrtLibraryInfo Load(string? explicitPath = null)
    {
        lock (Gate)
        {
            if (_loaded is not null && string.IsNullOrEmpty(explicitPath)) return _loaded;
            var (path, foundBy) = Locate(explicitPath, Environment.GetEnvironmentVariable(EnvironmentVariable),
                Environment.GetEnvironmentVariable("ROBOTCTL_HOME"), AppContext.BaseDirectory);
            if (_loaded is not null)
            {
                if (SamePath(_loaded.Path, path)) return _loaded;
                throw new InferenceSetupException(
                    $"ONNX Runtime is already loaded from {_loaded.Path} ({_loaded.Version}); a process can use only one " +
                    $"ONNX Runtime library, so {path} (from {foundBy}) cannot be loaded too.");
            }
            _loaded = Bind(path, foundBy);
            return _loaded;
        }
    }

    internal static OrtEnvHandle Env => _env ?? throw NotLoaded();
    internal static OrtMemoryInfoHandle CpuMemory => _cpuMemory ?? throw NotLoaded();
    internal static nint DefaultAllocator => _allocator != 0 ? _allocator : throw NotLoaded();

    private static InvalidOperationException NotLoaded() => new("OnnxRuntime.Load has not been called");

    /// <summary>Resolves the library path; pure apart from file-system reads, so it can be tested.</summary>
    internal static (string Path, string FoundBy) Locate(string? explicitPath, string? environmentPath, string? home, string baseDirectory)
    {
        if (!string.IsNullOrWhiteSpace(explicitPath))
            return Existing(explicitPath, $"the {ConfigurationKey} setting");
        if (!string.IsNullOrWhiteSpace(environmentPath))
            return Existing(environmentPath, $"the {EnvironmentVariable} environment variable");

        var looked = new List<string>();
        if (!string.IsNullOrWhiteSpace(home))
        {
            var found = FindInTools(Path.Combine(home, ".tools"), looked);
            if (found is not null) return (found, "ROBOTCTL_HOME/.tools");
        }
        for (var dir = new DirectoryInfo(baseDirectory); dir is not null; dir = dir.Parent)
        {
            var found = FindInTools(Path.Combine(dir.FullName, ".tools"), looked);
            if (found is not null) return (found, $".tools above {baseDirectory}");
        }
        foreach (var name in LibraryNames)
        {
            if (NativeLibrary.TryLoad(name, out var h))
            {
                NativeLibrary.Free(h);
                return (name, "the system library path");
            }
        }
        throw new InferenceSetupException(
            $"ONNX Runtime library not found. Looked for {LibraryNames[0]} in: {string.Join(", ", looked.Distinct())} " +
            $"and the system library path. Run scripts/setup (it fetches ONNX Runtime {SetupVersion} into .tools/), or set " +
            $"{EnvironmentVariable} or the {ConfigurationKey} setting to the library's path.");
    }

    private static string[] LibraryNames =>
        OperatingSystem.IsWindows() ? ["onnxruntime.dll"]
        : OperatingSystem.IsMacOS() ? ["libonnxruntime.dylib"]
        : ["libonnxruntime.so.1", "libonnxruntime.so"];

    private static (string, string) Existing(string path, string foundBy)
    {
        if (File.Exists(path)) return (Path.GetFullPath(path), foundBy);
        if (Directory.Exists(path))
        {
            foreach (var name in LibraryNames)
            {
                var candidate = Path.Combine(path, name);
                if (File.Exists(candidate)) return (Path.GetFullPath(candidate), foundBy);
            }
        }
        throw new InferenceSetupException(
            $"ONNX Runtime library not found at {path} (set by {foundBy}). Point it at a libonnxruntime.so.1 (or its " +
            $"folder), or unset it to use the copy scripts/setup fetches into .tools/onnxruntime-{SetupVersion}/.");
    }

    /// <summary>The newest .tools/onnxruntime-*/ that holds the library, or null.</summary>
    private static string? FindInTools(string tools, List<string> looked)
    {
        looked.Add(Path.Combine(tools, "onnxruntime-*"));
        if (!Directory.Exists(tools)) return null;
        var dirs = Directory.GetDirectories(tools, "onnxruntime-*")
            .OrderByDescending(d => Version.TryParse(Path.GetFileName(d)["onnxruntime-".Length..], out var v) ? v : new Version(0, 0));
        foreach (var dir in dirs)
            foreach (var name in LibraryNames)
            {
                var candidate = Path.Combine(dir, name);
                if (File.Exists(candidate)) return Path.GetFullPath(candidate);
            }
        return null;
    }

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), StringComparison.Ordinal);

    private static OrtLibraryInfo Bind(string path, string foundBy)
    {
        nint library;
        try
        {
            library = NativeLibrary.Load(path);
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            throw new InferenceSetupException(
                $"ONNX Runtime library {path} (found by {foundBy}) could not be loaded: {e.Message}. A GPU build also " +
                "needs its CUDA/cuDNN libraries on the library path.", e);
        }
        if (!NativeLibrary.TryGetExport(library, "OrtGetApiBase", out var getApiBase))
            throw new InferenceSetupException($"{path} (found by {foundBy}) is not ONNX Runtime: it has no OrtGetApiBase.");

        // OrtApiBase is { GetApi(uint version), GetVersionString() }.
        var apiBase = ((delegate* unmanaged[Cdecl]<void**>)getApiBase)();
        var getApi = (delegate* unmanaged[Cdecl]<uint, void**>)apiBase[0];
        var getVersion = (delegate* unmanaged[Cdecl]<byte*>)apiBase[1];
        var version = Marshal.PtrToStringUTF8((nint)getVersion()) ?? "?";
        var api = getApi(NativeMethods.RequiredApiVersion);
        if (api is null)
            throw new InferenceSetupException(
                $"ONNX Runtime {version} at {path} (found by {foundBy}) does not provide C API version " +
                $"{NativeMethods.RequiredApiVersion}; robotctl needs ONNX Runtime 1.11 or newer (scripts/setup fetches {SetupVersion}).");
        NativeMethods.Bind(api);

        var env = new OrtEnvHandle();
        nint envPtr;
        var logId = stackalloc byte[] { (byte)'r', (byte)'o', (byte)'b', (byte)'o', (byte)'t', (byte)'c', (byte)'t', (byte)'l', 0 };
        NativeMethods.Check(NativeMethods.CreateEnv(3 /* ORT_LOGGING_LEVEL_ERROR */, logId, &envPtr));
        env.Attach(envPtr);

        var memory = new OrtMemoryInfoHandle();
        nint memoryPtr;
        NativeMethods.Check(NativeMethods.CreateCpuMemoryInfo(0 /* OrtDeviceAllocator */, 0 /* OrtMemTypeDefault */, &memoryPtr));
        memory.Attach(memoryPtr);

        nint allocator;
        NativeMethods.Check(NativeMethods.GetAllocatorWithDefaultOptions(&allocator));

        _env = env;
        _cpuMemory = memory;
        _allocator = allocator;
        return new OrtLibraryInfo(path, version, foundBy, NativeMethods.RequiredApiVersion, ReadProviders());
    }

    private static string[] ReadProviders()
    {
        byte** names;
        int count;
        NativeMethods.Check(NativeMethods.GetAvailableProviders(&names, &count));
        try
        {
            var result = new string[count];
            for (int i = 0; i < count; i++) result[i] = Marshal.PtrToStringUTF8((nint)names[i]) ?? "";
            return result;
        }
        finally
        {
            NativeMethods.Check(NativeMethods.ReleaseAvailableProviders(names, count));
        }
    }
}
