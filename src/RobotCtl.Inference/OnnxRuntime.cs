using Microsoft.ML.OnnxRuntime;

namespace RobotCtl.Inference;

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
