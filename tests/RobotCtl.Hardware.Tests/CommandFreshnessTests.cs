using RobotCtl.Hardware.Servers;

namespace RobotCtl.Hardware.Tests;

public class CommandFreshnessTests
{
    private const long MaxAge = 250_000; // µs

    [Fact]
    public void Fresh_commands_pass_whatever_the_clock_offset()
    {
        var f = new CommandFreshness(MaxAge);
        const long offset = 123_456_789_000; // the sender's clock is far from ours
        for (uint i = 1; i <= 100; i++)
            Assert.Equal(CommandFreshness.Fresh, f.Check(i, (ulong)(i * 20_000), offset + i * 20_000 + 300 + (i % 7) * 1000));
    }

    [Fact]
    public void Commands_held_in_a_queue_during_an_outage_are_stale()
    {
        var f = new CommandFreshness(MaxAge);
        for (uint i = 1; i <= 10; i++) Assert.Equal(CommandFreshness.Fresh, f.Check(i, i * 20_000UL, i * 20_000 + 500));
        // Commands 11..20 were sent just before the outage and all delivered 3 s later in one burst.
        for (uint i = 11; i <= 20; i++) Assert.Equal(CommandFreshness.Stale, f.Check(i, i * 20_000UL, 3_400_000 + i));
        // New commands after the reconnect are fresh again.
        Assert.Equal(CommandFreshness.Fresh, f.Check(200, 3_500_000, 3_500_400));
    }

    [Fact]
    public void Duplicates_and_reordered_sequences_are_dropped_but_a_restarted_sender_is_accepted()
    {
        var f = new CommandFreshness(MaxAge);
        Assert.Equal(CommandFreshness.Fresh, f.Check(5000, 1_000, 1_100));
        Assert.Equal(CommandFreshness.Duplicate, f.Check(5000, 1_000, 1_200));
        Assert.Equal(CommandFreshness.Duplicate, f.Check(4990, 1_000, 1_200));
        Assert.Equal(CommandFreshness.Fresh, f.Check(5, 2_000, 2_100)); // more than 1024 behind: a new sender (links start at a random sequence)
    }

    [Fact]
    public void A_sender_whose_clock_jumps_is_relearnt_after_a_sustained_run()
    {
        var f = new CommandFreshness(MaxAge);
        Assert.Equal(CommandFreshness.Fresh, f.Check(1, 1_000, 1_100));
        // The sender restarts on a clock 10 s behind: its commands look 10 s late, but keep coming over real time.
        var results = new List<string>();
        for (uint i = 0; i < 40; i++) results.Add(f.Check(100 + i, 20_000UL * i, 10_001_100 + 20_000 * i));
        Assert.Equal(CommandFreshness.Stale, results[0]);
        Assert.Equal(CommandFreshness.Fresh, results[^1]);
        Assert.True(results.Count(r => r == CommandFreshness.Stale) <= 26, "re-learnt within ~2 x MaxAge of real time");
    }
}
