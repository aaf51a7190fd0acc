using Microsoft.ML.OnnxRuntime;

namespace RobotCtl.Inference;

/// <summary>
/// Which ONNX Runtime flavour this robotctl was built with: "cpu" (NuGet Microsoft.ML.OnnxRuntime) or "cuda"
/// (Microsoft.ML.OnnxRuntime.Gpu.Linux, chosen with -p:RobotCtlGpu=true or ROBOTCTL_GPU=1 at build time). One
/// flavour per build: both native packages in one app would let the CPU library win silently.
/// </summary>
public static class OnnxRuntimeBuild
{
#if ROBOTCTL_ORT_CUDA
    public const string Flavour = "cuda";
    public const string Package = "Microsoft.ML.OnnxRuntime.Gpu.Linux";
#else
    public const string Flavour = "cpu";
    public const string Package = "Microsoft.ML.OnnxRuntime";
#endif

    public static bool IsCuda => Flavour == "cuda";

    /// <summary>How to get the CUDA build, for messages.</summary>
    public const string HowToGetCuda = "get the CUDA build with `ROBOTCTL_GPU=1 scripts/setup --gpu` (or `dotnet build -p:RobotCtlGpu=true`)";
}

/// <summary>The ONNX Runtime this process runs: native version (from the managed API), flavour, providers it lists.</summary>
public sealed record OrtLibraryInfo(string Version, string Flavour, string Package, IReadOnlyList<string> AvailableProviders)
{
    public override string ToString() =>
        $"ONNX Runtime {Version} ({Flavour} build, NuGet {Package}; providers: {string.Join(", ", AvailableProviders)})";
}

/// <summary>
/// The process-wide ONNX Runtime environment, created once (ONNX Runtime's own log: fatal only). The native library ships with
/// robotctl (NuGet, linux-x64 natives next to the assemblies): there is nothing to locate.
/// </summary>
public static class OnnxRuntime
{
    /// <summary>Settings of the hand-loaded library that no longer exist; a config or environment still setting them is told so.</summary>
    public const string RemovedConfigurationKey = "Inference:OnnxRuntimeLibrary";
    public const string RemovedEnvironmentVariable = "ROBOTCTL_ORT_LIBRARY";

    private static readonly Lock Gate = new();
    private static OrtLibraryInfo? _loaded;

    /// <summary>The runtime initialised so far, or null.</summary>
    public static OrtLibraryInfo? Loaded => _loaded;

    /// <summary>Initialises ONNX Runtime once (later calls return the same answer).</summary>
    /// <exception cref="InferenceSetupException">the native library of the package cannot be loaded.</exception>
    public static OrtLibraryInfo Load()
    {
        lock (Gate)
        {
            if (_loaded is not null) return _loaded;
            try
            {
                OrtEnv env;
                if (OrtEnv.IsCreated) env = OrtEnv.Instance();
                else
                {
                    // Fatal only: every failure reaches us as an exception whose message we report; ONNX Runtime's own
                    // error log would print the same failure again, multi-line and coloured, on stderr.
                    var creation = new EnvironmentCreationOptions { logId = "robotctl", logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
                    env = OrtEnv.CreateInstanceWithOptions(ref creation);
                }
                _loaded = new OrtLibraryInfo(env.GetVersionString(), OnnxRuntimeBuild.Flavour, OnnxRuntimeBuild.Package,
                    env.GetAvailableProviders());
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or TypeInitializationException)
            {
                throw new InferenceSetupException(
                    $"the ONNX Runtime native library of {OnnxRuntimeBuild.Package} ({OnnxRuntimeBuild.Flavour} build) could not be " +
                    $"loaded from {AppContext.BaseDirectory}: {(e.InnerException ?? e).Message}. Rebuild robotctl (scripts/setup " +
                    "restores the package; the build copies libonnxruntime.so next to the assemblies).", e);
            }
            return _loaded;
        }
    }

    /// <summary>
    /// A warning when the environment still names a hand-loaded library (ROBOTCTL_ORT_LIBRARY): it is no longer read,
    /// and silently running another library than the one asked for would mislead. Null when unset.
    /// </summary>
    internal static string? RemovedEnvironmentWarning(string? value) =>
        string.IsNullOrWhiteSpace(value) ? null
        : $"{RemovedEnvironmentVariable} is set ({value}) but no longer used: ONNX Runtime ships with robotctl as the NuGet " +
          $"package {OnnxRuntimeBuild.Package} ({OnnxRuntimeBuild.Flavour} build); unset it" +
          (OnnxRuntimeBuild.IsCuda ? "" : $", and for CUDA {OnnxRuntimeBuild.HowToGetCuda}");

    /// <summary>The error for a configuration that still sets Inference:OnnxRuntimeLibrary.</summary>
    public static string RemovedConfigurationMessage =>
        $"{RemovedConfigurationKey}: this setting was removed: ONNX Runtime ships with robotctl as the NuGet package " +
        $"{OnnxRuntimeBuild.Package} ({OnnxRuntimeBuild.Flavour} build), so there is no library to point at; delete it " +
        $"from the configuration" + (OnnxRuntimeBuild.IsCuda ? "" : $", and for CUDA {OnnxRuntimeBuild.HowToGetCuda}");
}
