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

    /// <summary>A 96x80 BGR scene: grey floor, a coloured block at (x, y).</summary>
    public static Frame BlockScene(int x, int y)
    {
        var frame = new Frame(96, 80);
        for (var r = 0; r < frame.Height; r++)
            for (var c = 0; c < frame.Width; c++)
            {
                var i = (r * frame.Width + c) * 3;
                var block = Math.Abs(c - x) < 8 && Math.Abs(r - y) < 8;
                frame.Pixels[i] = (byte)(block ? 30 : 120);
                frame.Pixels[i + 1] = (byte)(block ? 60 : 120 + r / 4);
                frame.Pixels[i + 2] = (byte)(block ? 220 : 120);
            }
        return frame;
    }
}
