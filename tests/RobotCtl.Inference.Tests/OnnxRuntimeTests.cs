namespace RobotCtl.Inference.Tests;

public class OnnxRuntimeTests
{
    [Fact]
    public void Loads_the_package_runtime_and_reports_its_version_and_flavour()
    {
        var library = OnnxRuntime.Load();

        // The version comes from the native library through the managed API: the package's own version.
        Assert.Equal(OnnxRuntimeBuild.IsCuda ? "1.31.0" : "1.31.1", library.Version);
        Assert.Equal(OnnxRuntimeBuild.Flavour, library.Flavour);
        Assert.Contains("CPUExecutionProvider", library.AvailableProviders);
        Assert.Contains($"ONNX Runtime {library.Version} ({OnnxRuntimeBuild.Flavour} build, NuGet {OnnxRuntimeBuild.Package}", library.ToString());
        Assert.Same(library, OnnxRuntime.Load());
    }

    [Fact]
    public void The_tests_run_the_CPU_flavour_with_only_linux_x64_natives()
    {
        // CI builds the CPU flavour; the CUDA flavour is checked by hand (README). RuntimeIdentifier linux-x64 copies
        // one libonnxruntime.so next to the assemblies instead of every platform's under runtimes/.
        Assert.Equal("cpu", OnnxRuntimeBuild.Flavour);
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "libonnxruntime.so")), AppContext.BaseDirectory);
        Assert.False(Directory.Exists(Path.Combine(AppContext.BaseDirectory, "runtimes", "win-x64")));
    }

    [Fact]
    public void A_leftover_library_variable_is_warned_about_not_silently_ignored()
    {
        Assert.Null(OnnxRuntime.RemovedEnvironmentWarning(null));
        Assert.Null(OnnxRuntime.RemovedEnvironmentWarning(" "));

        var warning = OnnxRuntime.RemovedEnvironmentWarning("/opt/ort/lib")!;

        Assert.Contains("ROBOTCTL_ORT_LIBRARY is set (/opt/ort/lib) but no longer used", warning);
        Assert.Contains(OnnxRuntimeBuild.Package, warning);
        Assert.Contains("ROBOTCTL_GPU=1 scripts/setup --gpu", warning);
    }

    [Fact]
    public void The_removed_configuration_key_gets_its_own_message()
    {
        var message = OnnxRuntime.RemovedConfigurationMessage;

        Assert.StartsWith("Inference:OnnxRuntimeLibrary: this setting was removed", message);
        Assert.Contains("-p:RobotCtlGpu=true", message);
        Assert.DoesNotContain('\n', message);
    }
}
