using Microsoft.Extensions.Configuration;

namespace RobotCtl.Sim.Tests;

/// <summary>The host binds the "Sim" section of appsettings.json onto these records: the proposed section must bind.</summary>
public class SimConfigurationTests
{
    [Fact]
    public void The_proposed_appsettings_section_binds_onto_the_options()
    {
        var json = """
            {
              "Sim": {
                "Scene": { "Seed": 3, "BlockSize": 0.06, "BlockX": 0.1, "BlockY": 0.05, "EeZ": 0.1, "PushSpin": 0.25 },
                "Render": { "Width": 96, "Height": 64, "Projection": "Oblique", "ElevationDegrees": 40, "BlockColor": "#10ff20" }
              }
            }
            """;
        var config = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build();
        var scene = config.GetSection("Sim:Scene").Get<SimSceneOptions>()!;
        var render = config.GetSection("Sim:Render").Get<SimRenderOptions>()!;
        Assert.Equal(SimSceneOptions.Parse("seed=3,blocksize=0.06,block=0.1:0.05,ee=0:-0.15:0.1,spin=0.25") with { BlockYaw = null }, scene);
        Assert.Equal(SimRenderOptions.Parse("size=96x64,view=oblique,elevation=40,block=#10ff20"), render);
        // Defaults survive where the section is silent.
        Assert.Equal(-0.3, scene.XMin);
        Assert.Equal(new SimRenderOptions().EffectorColor, render.EffectorColor);
    }
}
