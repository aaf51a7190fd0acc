using RobotCtl.Core.Vision;

namespace RobotCtl.Sim.Tests;

public class SimRendererTests
{
    private static readonly SimRenderOptions Small = new() { Width = 64, Height = 64 };

    private static SimColor PixelAt(Frame f, double u, double v)
    {
        var p = ((int)Math.Floor(v) * f.Width + (int)Math.Floor(u)) * 3;
        return new SimColor(f.Pixels[p + 2], f.Pixels[p + 1], f.Pixels[p]);
    }

    private static int Count(Frame f, SimColor c)
    {
        var n = 0;
        for (var p = 0; p < f.Pixels.Length; p += 3)
            if (f.Pixels[p] == c.B && f.Pixels[p + 1] == c.G && f.Pixels[p + 2] == c.R) n++;
        return n;
    }

    [Fact]
    public void Top_down_view_maps_the_table_linearly_with_plus_y_up()
    {
        var model = SimCameraModel.Create(SimSceneOptions.Default, Small);
        Assert.True(model.IsOrthographic);
        model.Project(0, 0, 0, out var u0, out var v0, out _);
        Assert.Equal((32.0, 32.0), (u0, v0));
        model.Project(0.1, 0.1, 0.05, out var u1, out var v1, out _);
        Assert.Equal(32 + 0.1 * model.Fx, u1, 9);
        Assert.Equal(32 - 0.1 * model.Fy, v1, 9);
        Assert.True(model.Unproject(u1, v1, 0, out var x, out var y));
        Assert.Equal((0.1, 0.1), (Math.Round(x, 9), Math.Round(y, 9)));
        // The table and walls fit: the walls' outer corners project inside the image.
        model.Project(-0.32, 0.32, 0, out var uc, out var vc, out _);
        Assert.InRange(uc, 0, 64);
        Assert.InRange(vc, 0, 64);
    }

    [Fact]
    public void Oblique_pinhole_projects_and_unprojects_consistently()
    {
        var model = SimCameraModel.Create(SimSceneOptions.Default, Small with { Projection = SimProjection.Oblique });
        Assert.False(model.IsOrthographic);
        Assert.Equal(32 / Math.Tan(25 * Math.PI / 180), model.Fy, 9);
        Assert.True(model.Project(0.12, -0.07, 0, out var u, out var v, out var depth));
        Assert.True(depth > 0);
        Assert.True(model.Unproject(u, v, 0, out var x, out var y));
        Assert.Equal(0.12, x, 9);
        Assert.Equal(-0.07, y, 9);
        // Farther along +y is higher in the image; higher z is higher in the image.
        model.Project(0, 0.2, 0, out _, out var vFar, out _);
        model.Project(0, -0.2, 0, out _, out var vNear, out _);
        model.Project(0, -0.2, 0.1, out _, out var vHigh, out _);
        Assert.True(vFar < vNear);
        Assert.True(vHigh < vNear);
    }

    [Theory]
    [InlineData(SimProjection.TopDown)]
    [InlineData(SimProjection.Oblique)]
    public void Block_and_effector_appear_where_the_projection_puts_them(SimProjection projection)
    {
        var scene = SimSceneOptions.Parse("block=0.12:0.1:0.3,ee=-0.1:-0.12:0.05");
        var options = new SimRenderOptions { Projection = projection }; // 224 x 224: the effector spans several pixels
        var sim = new SimWorkcell(scene);
        var renderer = new SimRenderer(options);
        var frame = new Frame(224, 224);
        renderer.Render(sim, frame);
        var model = renderer.CameraModel(scene);

        // Block top centre (the yaw mark sits towards +x, away from the centre).
        model.Project(0.12, 0.1, scene.BlockSize, out var ub, out var vb, out _);
        Assert.Equal(options.BlockColor, PixelAt(frame, ub, vb));
        // Between the open fingers and beside the oblique view's rod: effector colour.
        model.Project(-0.1 + 0.6 * scene.EffectorRadius, -0.12, 0.05, out var ue, out var ve, out _);
        Assert.Equal(options.EffectorColor, PixelAt(frame, ue, ve));
        // Away from both: table.
        model.Project(-0.2, 0.2, 0, out var ut, out var vt, out _);
        var table = PixelAt(frame, ut, vt);
        Assert.NotEqual(options.BlockColor, table);
        Assert.NotEqual(options.EffectorColor, table);
    }

    [Fact]
    public void Closing_the_gripper_brings_the_fingers_together_over_the_centre()
    {
        var sim = new SimWorkcell(SimSceneOptions.Parse("ee=0:0:0.1,block=0.2:0.2"));
        var options = new SimRenderOptions(); // 224 x 224: fingers are a few pixels wide
        var renderer = new SimRenderer(options);
        var open = new Frame(224, 224);
        var closed = new Frame(224, 224);
        renderer.Render(sim, open);
        sim.Apply(new RobotCtl.Core.Arm.EeCommand(0, 0, 0, 0, 0, 0, 1));
        renderer.Render(sim, closed);
        var model = renderer.CameraModel(sim.Scene);
        model.Project(0, 0, 0.1, out var u, out var v, out _);
        Assert.Equal(options.EffectorColor, PixelAt(open, u, v));
        Assert.Equal(options.FingerColor, PixelAt(closed, u, v));
        Assert.NotEqual(open.Pixels, closed.Pixels);
    }

    [Fact]
    public void A_higher_effector_looks_bigger_from_above_and_casts_an_offset_shadow()
    {
        var options = new SimRenderOptions();
        var renderer = new SimRenderer(options);
        var low = new Frame(224, 224);
        var high = new Frame(224, 224);
        var sim = new SimWorkcell(SimSceneOptions.Parse("ee=0:0:0.02,block=0.2:0.2"));
        renderer.Render(sim, low);
        for (var i = 0; i < 10; i++) sim.Apply(new RobotCtl.Core.Arm.EeCommand(0, 0, 0.02f, 0, 0, 0, 0));
        renderer.Render(sim, high);
        Assert.True(Count(high, options.EffectorColor) > 1.5 * Count(low, options.EffectorColor));
        var model = renderer.CameraModel(sim.Scene);
        var z = sim.CurrentState.Z;
        model.Project(SimRenderer.ShadowSlope * z, -SimRenderer.ShadowSlope * z, 0, out var us, out var vs, out _);
        Assert.Equal(options.ShadowColor, PixelAt(high, us, vs));
    }

    [Fact]
    public void Rendering_is_deterministic_and_allocates_nothing_after_warm_up()
    {
        var sim = new SimWorkcell(new SimSceneOptions { Seed = 4 });
        var scene = sim.Scene;
        foreach (var projection in new[] { SimProjection.TopDown, SimProjection.Oblique })
        {
            var renderer = new SimRenderer(Small with { Projection = projection });
            var frame = new Frame(64, 64);
            renderer.Render(sim, frame); // warm-up: draws the static background once
            var state = sim.Snapshot();
            Assert.Equal(0, Allocations.Of(() =>
            {
                renderer.Render(sim, frame);
                renderer.Render(scene, state, frame);
            }, times: 20));
            var again = new Frame(64, 64);
            new SimRenderer(Small with { Projection = projection }).Render(scene, state, again);
            Assert.Equal(frame.Pixels, again.Pixels);
        }
    }

    [Fact]
    public void Table_texture_shows_position()
    {
        var options = Small;
        var renderer = new SimRenderer(options);
        var frame = new Frame(64, 64);
        renderer.Render(new SimWorkcell(SimSceneOptions.Parse("ee=0:0:0.2,block=0:0.2")), frame);
        var model = renderer.CameraModel(SimSceneOptions.Default);
        var corners = new HashSet<SimColor>();
        foreach (var (x, y) in new[] { (-0.25, -0.25), (0.25, -0.25), (-0.25, 0.12), (0.25, 0.12) })
        {
            model.Project(x, y, 0, out var u, out var v, out _);
            corners.Add(PixelAt(frame, u, v));
        }
        Assert.Equal(4, corners.Count);
    }

    [Fact]
    public void Render_resizes_a_destination_of_the_wrong_size()
    {
        var frame = new Frame(10, 10);
        new SimRenderer(Small).Render(new SimWorkcell(), frame);
        Assert.Equal((64, 64), (frame.Width, frame.Height));
    }

    [Theory]
    [InlineData("size=64", "'size': expected WIDTHxHEIGHT")]
    [InlineData("view=side", "expected topdown or oblique")]
    [InlineData("elevation=0", "ElevationDegrees")]
    [InlineData("block=red", "expected #rrggbb")]
    [InlineData("zoom=2", "unknown key 'zoom'")]
    public void View_string_errors_name_the_key(string text, string expected)
    {
        var e = Assert.Throws<FormatException>(() => SimRenderOptions.Parse(text));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void View_string_sets_size_projection_and_colours()
    {
        var o = SimRenderOptions.Parse("size=96x64,view=oblique,elevation=40,distance=1.3,fov=60,block=#00ff10");
        Assert.Equal((96, 64, SimProjection.Oblique, 40.0, 1.3, 60.0), (o.Width, o.Height, o.Projection, o.ElevationDegrees, o.Distance, o.FieldOfViewDegrees));
        Assert.Equal(new SimColor(0, 255, 16), o.BlockColor);
    }
}
