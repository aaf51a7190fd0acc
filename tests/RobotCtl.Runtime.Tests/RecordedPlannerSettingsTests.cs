using Microsoft.Data.Sqlite;
using RobotCtl.Episodes;
using RobotCtl.Runtime;

namespace RobotCtl.Runtime.Tests;

/// <summary>The Planner section as an episode records it, and replay planning from that record.</summary>
public class RecordedPlannerSettingsTests
{
    [Fact]
    public async Task Replay_plans_with_the_recorded_planner_settings_not_the_recorded_configuration()
    {
        using var dir = new TempDir();
        var goal = TestScenes.GoalImage(dir.Path, "seed=7,ee=0.1:0.08:0.03");
        var request = RuntimeTestHome.SmallRun(dir.File("episodes"), steps: 3);
        await using (var run = await SessionRun.OpenAsync([goal], request with { Sets = [.. request.Sets, "Planner:TopK=7", "Planner:LatentWeights=2,0.5"] }))
        {
            var outcome = await run.RunToEndAsync();
            Assert.Equal(RunOutcome.StepBudgetExhausted, outcome);
            await run.Session.CloseEpisodeAsync(outcome);
        }
        var path = Assert.Single(EpisodeCatalog.List(dir.File("episodes"))).Path;

        // Every value is recorded, under the section's own key names, and reads back as the same settings.
        string json;
        using (var reader = EpisodeReader.Open(path)) json = reader.Plans().First().SettingsJson!;
        var recorded = PlannerSettings.FromRecord(json, path)!;
        Assert.Equal((48, 7, 3), (recorded.Samples, recorded.TopK, recorded.Iterations));
        Assert.NotNull(recorded.Horizon);
        Assert.NotNull(recorded.Execute);
        Assert.NotNull(recorded.CostShape);
        Assert.Contains("\"TopK\":7", json);
        Assert.Equal("2,0.5", recorded.LatentWeights);
        Assert.True(recorded.SharedContext);

        // The recorded configuration now says otherwise (as if appsettings.json had been edited before it was
        // recorded): replay still reproduces every plan, because it plans from the plans' own record.
        using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            connection.Open();
            using var update = connection.CreateCommand();
            update.CommandText = "UPDATE metadata SET value = replace(replace(value, '\"Samples\":\"48\"', '\"Samples\":\"20\"'), '\"Iterations\":\"3\"', '\"Iterations\":\"1\"') WHERE key = 'configuration'";
            Assert.Equal(1, update.ExecuteNonQuery());
        }
        SqliteConnection.ClearAllPools();
        using var replayed = EpisodeReader.Open(path);
        Assert.Contains("\"Samples\":\"20\"", replayed.Info.ConfigurationJson);
        using var session = ReplaySession.Open(replayed);
        var steps = session.Replayer.Replay(replayed).ToList();
        Assert.Equal(3, steps.Count);
        Assert.All(steps, s => Assert.Equal(0, s.PlanDiff));
    }

    [Fact]
    public void An_episode_recorded_before_the_full_record_replays_from_its_configuration()
    {
        const string before = """{"solver":"cem","Samples":48,"TopK":4,"Iterations":3,"Horizon":3,"InitStd":1,"seed":11,"execute_blocks":1,"warm_start":true}""";
        Assert.Null(PlannerSettings.FromRecord(before, "old.sqlite"));
    }

    [Fact]
    public void Plans_recorded_before_the_shared_context_replay_through_the_plain_predictor()
    {
        // Their plans ran every window position through predictor.onnx: replaying them bit for bit must too.
        var before = PlannerSettings.FromRecord("""{"Samples":48,"TopK":4,"Iterations":3,"Horizon":3,"ContextFrames":3}""", "old.sqlite")!;
        Assert.False(before.SharedContext);
        var after = PlannerSettings.FromRecord("""{"Samples":48,"TopK":4,"SharedContext":true}""", "new.sqlite")!;
        Assert.True(after.SharedContext);
    }

    [Fact]
    public void A_recorded_value_out_of_range_is_refused_naming_the_key()
    {
        var e = Assert.Throws<ConfigurationValueException>(() => PlannerSettings.FromRecord("""{"Samples":0}""", "bad.sqlite"));
        Assert.Contains("Planner:Samples", e.Message);
    }
}
