namespace RobotCtl.Inference;

/// <summary>The ONNX Runtime this process runs: native version (from the managed API), flavour, providers it lists.</summary>
public sealed record OrtLibraryInfo(string Version, string Flavour, string Package, IReadOnlyList<string> AvailableProviders)
{
    public override string ToString() =>
        $"ONNX Runtime {Version} ({Flavour} build, NuGet {Package}; providers: {string.Join(", ", AvailableProviders)})";
}
