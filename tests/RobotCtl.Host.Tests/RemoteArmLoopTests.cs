using RobotCtl.Runtime.Devices;
using RobotCtl.Episodes;
using RobotCtl.Hardware.Links;
using RobotCtl.Hardware.Servers;
using RobotCtl.Hardware.Tests;
using RobotCtl.Host.Commands;
using RobotCtl.Runtime;
using RobotCtl.Sim;

namespace RobotCtl.Host.Tests;

/// <summary>
/// The closed loop against the simulated arm on the far side of a real transport: a socat pty pair with the
/// serial protocol, and a mosquitto broker on loopback. The sim camera observes the same workcell the arm server
/// drives, so what the loop sees is what the commands did after crossing the wire.
/// </summary>
[Trait("Category", "Slow")]
public class RemoteArmLoopTests
{
    private const string Scene = "seed=7,ee=-0.12:-0.12:0.03";

    // These tests are about commands crossing the wire; freshness is unit-tested in the Hardware tests. A stall on a
    // loaded machine between the loop's send stamp and the server's read must not turn a motion into a "stale" drop.
    private static readonly ArmServerOptions PatientServer = new() { MaxCommandAge = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task The_loop_drives_the_sim_arm_over_a_pty()
    {
        using var dir = new TempDir();
        using var pty = new PtyPair(dir.Path);
        await pty.StartAsync();
        var workcell = new SimWorkcell(SimSceneOptions.Parse(Scene));
        await using var server = new SerialArmServer(workcell, new SerialLinkOptions { Device = pty.B, Baud = 1_000_000 }, PatientServer);
        server.Start();
        var profile = TestHome.SerialProfile(dir, pty.A);

        var exit = await RunAgainst(profile, dir, workcell);

        await AssertDrivenOverTheWire(exit, dir, () => server.CommandsApplied, workcell);
    }

    [Fact]
    public async Task The_loop_drives_the_sim_arm_through_a_mosquitto_broker()
    {
        using var dir = new TempDir();
        using var broker = new Broker(dir.Path);
        await broker.StartAsync();
        var workcell = new SimWorkcell(SimSceneOptions.Parse(Scene));
        await using var server = new MqttArmServer(workcell, new MqttLinkOptions { Host = "127.0.0.1", Port = broker.Port, RobotId = "loop1" }, PatientServer);
        server.Start();
        await TestRig.WaitUntil(() => server.IsConnected, TestRig.Generous, "the arm server's broker connection");
        var profile = TestHome.MqttProfile(dir, broker.Port, "loop1");

        var exit = await RunAgainst(profile, dir, workcell);

        await AssertDrivenOverTheWire(exit, dir, () => server.CommandsApplied, workcell);
    }

    private static Task<int> RunAgainst(string profile, TempDir dir, SimWorkcell workcell)
    {
        var goal = TestScenes.GoalImage(dir.Path, "seed=7,ee=0.1:0.08:0.03");
        var request = TestHome.SmallRun(goal, dir.File("episodes"), steps: 3) with { Sim = false, Camera = "sim", Arm = profile };
        return RunCommand.RunAsync(request, CancellationToken.None, new RunWorld().With(workcell));
    }

    private static async Task AssertDrivenOverTheWire(int exit, TempDir dir, Func<long> applied, SimWorkcell workcell)
    {
        Assert.Equal(ExitCodes.Of(RunOutcome.StepBudgetExhausted), exit);
        using var reader = EpisodeReader.Open(Assert.Single(EpisodeCatalog.List(dir.File("episodes"))).Path);
        var moves = reader.Commands().Count(c => !c.Sent.IsHold);
        Assert.True(moves > 0, "the loop sent no motion");
        // Every planned motion crossed the wire and was applied by the arm side (holds are applied too), except those the
        // link's latest-wins slot replaced with a newer command before its writer sent them (a loaded machine); the
        // episode records how many.
        var link = Assert.Single(reader.Events(), e => e.Message.StartsWith("link: ", StringComparison.Ordinal)).Message;
        var superseded = long.Parse(System.Text.RegularExpressions.Regex.Match(link, @"(\d+) superseded").Groups[1].Value);
        await TestRig.WaitUntil(() => applied() >= moves - superseded, TestRig.Generous,
            $"{moves} commands less {superseded} superseded applied by the arm server (applied {applied()}; {link})");
        // The state the loop recorded is the remote arm's, received back over the transport.
        Assert.NotEmpty(reader.ArmStates());
        Assert.Contains(reader.ArmStates(), s => s.State.Sequence > 0);
        Assert.True(workcell.CurrentState.Sequence > 0);
    }
}
