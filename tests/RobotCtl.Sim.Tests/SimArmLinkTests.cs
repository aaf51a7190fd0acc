using RobotCtl.Core.Arm;

namespace RobotCtl.Sim.Tests;

public class SimArmLinkTests
{
    [Fact]
    public async Task Link_applies_commands_only_while_online_and_reports_state()
    {
        var sim = new SimWorkcell();
        var events = new List<ArmLinkEvent>();
        await using var link = new SimArmLink(sim);
        link.EventRaised += events.Add;
        Assert.Equal(ArmLinkStatus.Disconnected, link.Status);
        Assert.False(link.TrySend(new EeCommand(0.01f, 0, 0, 0, 0, 0, 0)));
        Assert.False(link.TryGetLatestState(out _));
        Assert.Equal(0u, sim.CurrentState.Sequence);

        await link.ConnectAsync(CancellationToken.None);
        Assert.Equal(ArmLinkStatus.Online, link.Status);
        Assert.True(link.TrySend(new EeCommand(0.01f, 0, 0, 0, 0, 0, 0.5f)));
        Assert.True(link.TryGetLatestState(out var state));
        Assert.Equal(1u, state.Sequence);
        Assert.Equal(0.01, state.X, 6);
        Assert.Equal(0.5, state.Gripper, 6);

        Assert.False(link.TrySend(new EeCommand(float.PositiveInfinity, 0, 0, 0, 0, 0, 0)));
        Assert.Equal(1u, sim.CurrentState.Sequence);
        Assert.Contains(events, e => e.Message.Contains("non-finite"));

        await link.DisposeAsync();
        Assert.Equal(ArmLinkStatus.Disconnected, link.Status);
        Assert.False(link.TrySend(EeCommand.Hold));
        Assert.Equal(new[] { ArmLinkStatus.Online, ArmLinkStatus.Online, ArmLinkStatus.Disconnected }, events.Select(e => e.Status));
    }
}
