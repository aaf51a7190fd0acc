using RobotCtl.Core.Arm;
using RobotCtl.Core.Vision;

namespace RobotCtl.Episodes.CrashWriter;

/// <summary>Deterministic step content, so the test can check every byte it reads back.</summary>
public static class StepContent
{
    public static void Fill(Frame frame, float[] latent, float[] chunk, float[] costs, long step)
    {
        for (var i = 0; i < frame.Pixels.Length; i++) frame.Pixels[i] = (byte)(step + i);
        frame.Sequence = step;
        frame.CaptureTicks = step * 1000;
        for (var i = 0; i < latent.Length; i++) latent[i] = step + i * 0.001f;
        for (var i = 0; i < chunk.Length; i++) chunk[i] = step - i;
        for (var i = 0; i < costs.Length; i++) costs[i] = 100f / (i + 1 + step);
    }

    public static EeCommand Command(long step) => new(step * 0.001f, 0, 0, 0, 0, 0, 0);

    public static ArmState State(long step) => new(step, 0, 0, 0, 0, 0, 0, step, (uint)step);
}
