namespace RobotCtl.Sim.Tests;

public class SimSceneOptionsTests
{
    [Fact]
    public void Parse_reads_the_documented_keys()
    {
        var o = SimSceneOptions.Parse("seed=3, block=0.1:0.05, ee=0:0:0.1, gripper=0.5, blocksize=0.06, radius=0.015, spin=0");
        Assert.Equal(3, o.Seed);
        Assert.Equal((0.1, 0.05, 0.0), (o.BlockX!.Value, o.BlockY!.Value, o.BlockYaw!.Value));
        Assert.Equal((0.0, 0.0, 0.1, 0.0), (o.EeX, o.EeY, o.EeZ, o.EeYaw));
        Assert.Equal(0.5, o.Gripper);
        Assert.Equal(0.06, o.BlockSize);
        Assert.Equal(0.015, o.EffectorRadius);
        Assert.Equal(0, o.PushSpin);
    }

    [Fact]
    public void Scene_string_round_trips()
    {
        var o = SimSceneOptions.Parse("seed=7,block=-0.1:0.12:0.4,bounds=-0.25:0.35:-0.2:0.3:0:0.25,ee=0.05:-0.1:0.03:1.2,step=0.1,speed=0.4,yawrate=2");
        Assert.Equal(o, SimSceneOptions.Parse(o.ToSceneString()));
        Assert.Equal(SimSceneOptions.Default, SimSceneOptions.Parse(""));
    }

    [Theory]
    [InlineData("colour=red", "unknown key 'colour'")]
    [InlineData("seed=x", "'seed': expected an integer")]
    [InlineData("block=0.1", "'block': expected 2 to 3")]
    [InlineData("ee=0:0:abc", "'ee': expected a number, found 'abc'")]
    [InlineData("justtext", "expected key=value")]
    [InlineData("ee=0.5:0:0.1", "effector start")]
    [InlineData("gripper=2", "Gripper: expected a closedness in [0, 1]")]
    [InlineData("bounds=0:0.05:0:0.05", "bounds")]
    public void Parse_names_what_is_wrong(string text, string expected)
    {
        var e = Assert.Throws<FormatException>(() => SimSceneOptions.Parse(text));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Block_drawn_from_the_seed_is_repeatable_inside_the_walls_and_clear_of_the_effector()
    {
        var poses = new HashSet<SimBlockPose>();
        for (var seed = 0; seed < 50; seed++)
        {
            var scene = new SimSceneOptions { Seed = seed };
            var a = new SimWorkcell(scene).BlockPose;
            Assert.Equal(a, new SimWorkcell(scene).BlockPose);
            var e = scene.BlockHalf * (Math.Abs(Math.Cos(a.Yaw)) + Math.Abs(Math.Sin(a.Yaw)));
            Assert.InRange(a.X, scene.XMin + e, scene.XMax - e);
            Assert.InRange(a.Y, scene.YMin + e, scene.YMax - e);
            Assert.True(SimWorkcell.Overlap(scene, scene.EeX, scene.EeY, scene.EeZ, a.X, a.Y, a.Yaw) < 0);
            poses.Add(a);
        }
        Assert.Equal(50, poses.Count);
    }

    [Fact]
    public void A_given_block_that_overlaps_the_effector_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new SimWorkcell(SimSceneOptions.Parse("ee=0:0:0.02") with { BlockX = 0.01, BlockY = 0 }));
        Assert.Contains("overlaps the effector", e.Message);
    }
}
