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
