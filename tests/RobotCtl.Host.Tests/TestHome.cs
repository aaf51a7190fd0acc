using RobotCtl.Core.Vision;
using RobotCtl.Runtime.Composition;
using RobotCtl.Sim;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Host.Tests;

/// <summary>Paths and fixtures shared by the host's integration tests.</summary>
internal static class TestHome
{
    public static string Root => RobotCtlHome.Path;

    public static string SmallModel => Path.Combine(Root, "models", "examples", "lewm-small");

    public static string VjepaModel => Path.Combine(Root, "models", "examples", "vjepa2ac-small");

    /// <summary>A temporary directory removed on dispose.</summary>
    public sealed class TempDir : IDisposable
    {
        public TempDir() => Directory.CreateDirectory(Path);

        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "robotctl-test-" + Guid.NewGuid().ToString("N")[..8]);

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Renders a sim scene and saves it as a PNG goal image.</summary>
    public static string GoalImage(string directory, string scene, int size = 224)
    {
        var frame = new Frame(size, size);
        new SimRenderer(new SimRenderOptions { Width = size, Height = size }).Render(new SimWorkcell(SimSceneOptions.Parse(scene)), frame);
        var path = System.IO.Path.Combine(directory, "goal.png");
        ImageIo.SavePng(path, frame);
        return path;
    }
}
