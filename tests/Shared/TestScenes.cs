using RobotCtl.Core.Vision;
using RobotCtl.Sim;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Testing;

/// <summary>Goal images of simulated scenes, as a user photographs them with `robotctl snapshot`.</summary>
internal static class TestScenes
{
    /// <summary>Renders <paramref name="scene"/> from the default top-down view and saves it as goal.png in <paramref name="directory"/>.</summary>
    public static string GoalImage(string directory, string scene, int size = 224)
    {
        var frame = new Frame(size, size);
        new SimRenderer(new SimRenderOptions { Width = size, Height = size }).Render(new SimWorkcell(SimSceneOptions.Parse(scene)), frame);
        var path = Path.Combine(directory, "goal.png");
        ImageIo.SavePng(path, frame);
        return path;
    }
}
