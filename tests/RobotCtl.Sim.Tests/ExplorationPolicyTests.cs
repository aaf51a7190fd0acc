using Xunit.Abstractions;
using RobotCtl.Core.Arm;
using RobotCtl.Sim.Tasks;

namespace RobotCtl.Sim.Tests;

public class ExplorationPolicyTests
{
    private readonly ITestOutputHelper _output;

    public ExplorationPolicyTests(ITestOutputHelper output) => _output = output;

    /// <summary>Runs one episode from the reach task's start distribution; returns the states visited (start included) and the commands.</summary>
    private static (List<SimSnapshot> States, List<EeCommand> Commands) Episode(string policy, int index, int steps)
    {
        var ep = SimTask.Get("reach").Sample(17, index);
        var cell = new SimWorkcell(ep.Scene);
        var p = ExplorationPolicy.Create(policy, SeedMix.Of(1, 17, index));
        var states = new List<SimSnapshot> { cell.Snapshot() };
        var commands = new List<EeCommand>();
        for (var t = 0; t < steps; t++)
        {
            var c = p.Next(cell.Snapshot());
            commands.Add(c);
            cell.Apply(c);
            states.Add(cell.Snapshot());
        }
        return (states, commands);
    }

    private static double BlockMoved(List<SimSnapshot> s) =>
        Math.Sqrt(Math.Pow(s[^1].BlockX - s[0].BlockX, 2) + Math.Pow(s[^1].BlockY - s[0].BlockY, 2));

    [Fact]
    public void Unknown_policy_lists_the_known_ones()
    {
        Assert.Equal(["random-walk", "push", "mixed"], ExplorationPolicy.Names);
        var e = Assert.Throws<ArgumentException>(() => ExplorationPolicy.Create("spiral", 0));
        Assert.StartsWith("unknown exploration policy 'spiral' (known: random-walk, push, mixed)", e.Message);
        Assert.Equal("push", ExplorationPolicy.Create(" Push ", 0).Name);
    }

    [Theory]
    [InlineData("random-walk")]
    [InlineData("push")]
    [InlineData("mixed")]
    public void Commands_are_planar_bounded_and_deterministic(string policy)
    {
        for (var i = 0; i < 10; i++)
        {
            var (states, commands) = Episode(policy, i, 100);
            Assert.Equal(commands, Episode(policy, i, 100).Commands);
            foreach (var c in commands)
            {
                Assert.True(c.IsFinite);
                Assert.InRange(c.Dx, -SimTask.MaxStep, SimTask.MaxStep);
                Assert.InRange(c.Dy, -SimTask.MaxStep, SimTask.MaxStep);
                Assert.Equal((0f, 0f, 0f, 0f, 0f), (c.Dz, c.DRoll, c.DPitch, c.DYaw, c.Gripper));
            }
            Assert.All(states, s => Assert.Equal(SimTask.EffectorHeight, s.EeZ));
        }
        Assert.NotEqual(Episode(policy, 0, 50).Commands, Episode(policy, 1, 50).Commands);
    }

    [Fact]
    public void Push_moves_the_block_in_most_episodes()
    {
        const int episodes = 40;
        var moved = Enumerable.Range(0, episodes).Select(i => BlockMoved(Episode("push", i, 100).States)).ToList();
        var count = moved.Count(m => m > 0.02);
        _output.WriteLine($"push: block moved > 2 cm in {count}/{episodes} episodes; median {moved.Order().ElementAt(episodes / 2):F3} m");
        Assert.True(count >= episodes * 3 / 4, $"push moved the block > 2 cm in only {count} of {episodes} episodes of 100 steps");
    }

    [Fact]
    public void Mixed_moves_the_block_in_many_episodes()
    {
        const int episodes = 40;
        var count = Enumerable.Range(0, episodes).Count(i => BlockMoved(Episode("mixed", i, 100).States) > 0.02);
        _output.WriteLine($"mixed: block moved > 2 cm in {count}/{episodes} episodes");
        Assert.True(count >= episodes / 2, $"mixed moved the block > 2 cm in only {count} of {episodes} episodes of 100 steps");
    }

    [Fact]
    public void Random_walk_visits_all_four_quadrants_and_covers_the_table()
    {
        var quadrants = new HashSet<(bool, bool)>();
        var cells = new HashSet<(int, int)>();
        for (var i = 0; i < 40; i++)
        {
            foreach (var s in Episode("random-walk", i, 100).States)
            {
                quadrants.Add((s.EeX > 0, s.EeY > 0));
                cells.Add(((int)Math.Floor((s.EeX + 0.3) / 0.1), (int)Math.Floor((s.EeY + 0.3) / 0.1)));
            }
        }
        _output.WriteLine($"random-walk: {cells.Count}/36 cells of 10 cm visited over 40 episodes");
        Assert.Equal(4, quadrants.Count);
        Assert.True(cells.Count >= 32, $"random-walk visited {cells.Count} of 36 10-cm cells");
        // One long walk alone reaches every quadrant too (it is not only the spread of start points).
        var one = new HashSet<(bool, bool)>();
        foreach (var s in Episode("random-walk", 99, 1000).States) one.Add((s.EeX > 0, s.EeY > 0));
        Assert.Equal(4, one.Count);
    }
}
