using RobotCtl.Core.Arm;
using RobotCtl.Hardware;
using RobotCtl.Hardware.Links;

namespace RobotCtl.Hardware.Tests;

public class ConfigTests
{
    private static string Calibration => Path.Combine(TestRig.RepoRoot, "calibration");

    [Fact]
    public void The_default_rig_loads_identity_and_tabletop_limits()
    {
        var rig = RigCalibration.Load(Path.Combine(Calibration, "default"));
        Assert.Equal(ActionMapping.Identity.AxisOrder, rig.Mapping.AxisOrder);
        float[] model = [0.01f, -0.02f, 0.03f, 0.1f, -0.1f, 0.2f, 0.5f];
        Assert.Equal(EeCommand.FromSpan(model), rig.Mapping.ToRobot(model));
        Assert.Equal([0.02f, 0.02f, 0.02f, 0.05f, 0.05f, 0.05f, 0.2f], rig.Limits.MaxStep);
        Assert.Equal([-0.3, -0.3, 0.0], rig.Limits.WorkspaceMin);
        Assert.Equal([0.3, 0.3, 0.3], rig.Limits.WorkspaceMax);
        Assert.Equal(TimeSpan.FromMilliseconds(250), rig.Limits.CommandWatchdog);
    }

    [Fact]
    public void A_mapping_with_a_swap_and_a_sign_maps_as_documented()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("action.json"), """{ "axisOrder": [1,0,2,3,4,5,6], "sign": [1,-1,1,1,1,1,1], "scale": [2,1,1,1,1,1,1] }""");
        var m = RigCalibration.LoadAction(dir.File("action.json"));
        var robot = m.ToRobot([0.1f, 0.2f, 0.3f, 0, 0, 0, 0]);
        Assert.Equal(0.4f, robot.Dx);   // 2 * model[1]
        Assert.Equal(-0.1f, robot.Dy);  // -1 * model[0]
        Span<float> back = stackalloc float[7];
        m.ToModel(robot, back);
        Assert.Equal(0.1f, back[0], 6);
        Assert.Equal(0.2f, back[1], 6);
    }

    [Theory]
    [InlineData("""{ "maxStep": [0.02, 0.02], "workspaceMin": [0,0,0], "workspaceMax": [1,1,1] }""", "field 'maxStep': expected 7 numbers, found 2")]
    [InlineData("""{ "maxStep": [0.02,0.02,0.02,0.05,0.05,"x",0.2], "workspaceMin": [0,0,0], "workspaceMax": [1,1,1] }""", "field 'maxStep[5]': expected a finite number, found \"x\"")]
    [InlineData("""{ "maxStep": [0.02,0.02,0.02,0.05,0.05,0.05,0.2], "workspaceMax": [1,1,1] }""", "field 'workspaceMin': expected an array of 3 numbers, found nothing")]
    [InlineData("""{ "maxStep": [0.02,0.02,0.02,0.05,0.05,0.05,0.2], "workspaceMin": [0,2,0], "workspaceMax": [1,1,1] }""", "field 'workspaceMax[1]': expected a number > workspaceMin[1] = 2, found 1")]
    [InlineData("""{ "maxStep": [0.02,0.02,0.02,0.05,0.05,0.05,0.2], "workspaceMin": [0,0,0], "workspaceMax": [1,1,1], "maxRate": 5 }""", "unknown field 'maxRate'")]
    [InlineData("""{ "maxStep": [0.02,0.02,0.02,0.05,0.05,0.05,0.2], "workspaceMin": [0,0,0], "workspaceMax": [1,1,1], "maxRateHz": "fast" }""", "field 'maxRateHz': expected a finite number, found \"fast\"")]
    [InlineData("""{ "maxStep": [0.02, """, "not valid JSON")]
    public void Bad_limits_name_the_file_and_field(string json, string expected)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("limits.json"), json);
        var e = Assert.Throws<ConfigException>(() => RigCalibration.LoadLimits(dir.File("limits.json")));
        Assert.Contains(dir.File("limits.json"), e.Message);
        Assert.Contains(expected, e.Message);
    }

    private const string Steps = "\"maxStep\": [0.02,0.02,0.02,0.05,0.05,0.05,0.2]";
    private const string Box = "\"workspaceMin\": [-0.3,-0.3,0], \"workspaceMax\": [0.3,0.3,0.3]";

    [Theory]
    // maxStep: translation (0, 0.2] m, rotation (0, 0.5] rad, gripper (0, 1], finite and not lost as a float
    [InlineData("\"maxStep\": [1000,0.02,0.02,0.05,0.05,0.05,0.2], " + Box, "field 'maxStep[0]': expected a number in (0, 0.2] (m per step), found 1000")]
    [InlineData("\"maxStep\": [0.02,0.02,-0.01,0.05,0.05,0.05,0.2], " + Box, "field 'maxStep[2]': expected a number in (0, 0.2] (m per step), found -0.01")]
    [InlineData("\"maxStep\": [0.02,0.02,0.02,0.05,0.6,0.05,0.2], " + Box, "field 'maxStep[4]': expected a number in (0, 0.5] (rad per step), found 0.6")]
    [InlineData("\"maxStep\": [0.02,0.02,0.02,0.05,0.05,0.05,0], " + Box, "field 'maxStep[6]': expected a number in (0, 1] (closedness per step), found 0")]
    [InlineData("\"maxStep\": [1e-50,0.02,0.02,0.05,0.05,0.05,0.2], " + Box, "field 'maxStep[0]': expected a number in (0, 0.2] (m per step), found 1E-50")]
    [InlineData("\"maxStep\": [0.02,1e39,0.02,0.05,0.05,0.05,0.2], " + Box, "field 'maxStep[1]': expected a number in (0, 0.2] (m per step), found 1E+39")]
    [InlineData("\"maxStep\": [0.02,0.02,0.02,0.05,0.05,0.05,1e999], " + Box, "field 'maxStep[6]': expected a finite number, found 1e999")]
    // workspace: each bound within +-5 m, min < max per axis
    [InlineData(Steps + ", \"workspaceMin\": [-1e9,-0.3,0], \"workspaceMax\": [0.3,0.3,0.3]", "field 'workspaceMin[0]': expected a number in [-5, 5] (m), found -1000000000")]
    [InlineData(Steps + ", \"workspaceMin\": [-0.3,-0.3,0], \"workspaceMax\": [0.3,0.3,1e9]", "field 'workspaceMax[2]': expected a number in [-5, 5] (m), found 1000000000")]
    [InlineData(Steps + ", \"workspaceMin\": [-0.3,-0.3,0.3], \"workspaceMax\": [0.3,0.3,0.3]", "field 'workspaceMax[2]': expected a number > workspaceMin[2] = 0.3, found 0.3")]
    // maxRateHz (0, 1000]
    [InlineData(Steps + ", " + Box + ", \"maxRateHz\": 1e9", "field 'maxRateHz': expected a number in (0, 1000], found 1000000000")]
    [InlineData(Steps + ", " + Box + ", \"maxRateHz\": 0", "field 'maxRateHz': expected a number in (0, 1000], found 0")]
    [InlineData(Steps + ", " + Box + ", \"maxRateHz\": 1e999", "field 'maxRateHz': expected a finite number, found 1e999")]
    // commandWatchdogMs [10, 10000] (checked before TimeSpan, which would throw on 1e300)
    [InlineData(Steps + ", " + Box + ", \"commandWatchdogMs\": 5", "field 'commandWatchdogMs': expected a number in [10, 10000], found 5")]
    [InlineData(Steps + ", " + Box + ", \"commandWatchdogMs\": 1e300", "field 'commandWatchdogMs': expected a number in [10, 10000], found 1E+300")]
    // maxStateAgeMs [10, 10000]
    [InlineData(Steps + ", " + Box + ", \"maxStateAgeMs\": 0", "field 'maxStateAgeMs': expected a number in [10, 10000], found 0")]
    [InlineData(Steps + ", " + Box + ", \"maxStateAgeMs\": 86400000", "field 'maxStateAgeMs': expected a number in [10, 10000], found 86400000")]
    public void Limits_out_of_their_sane_range_are_refused_naming_key_expected_and_found(string body, string expected)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("limits.json"), "{ " + body + " }");
        var e = Assert.Throws<ConfigException>(() => RigCalibration.LoadLimits(dir.File("limits.json")));
        Assert.Contains(dir.File("limits.json"), e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Limits_at_the_edges_of_their_ranges_load()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("limits.json"), """
            { "maxStep": [0.2,0.2,0.2,0.5,0.5,0.5,1], "workspaceMin": [-5,-5,-5], "workspaceMax": [5,5,5],
              "maxRateHz": 1000, "commandWatchdogMs": 10, "maxStateAgeMs": 10000 }
            """);
        var limits = RigCalibration.LoadLimits(dir.File("limits.json"));
        Assert.Equal(1000, limits.MaxRateHz);
        Assert.Equal(TimeSpan.FromMilliseconds(10), limits.CommandWatchdog);
        Assert.Equal(TimeSpan.FromSeconds(10), limits.MaxStateAge);
        Assert.Equal(1f, limits.MaxStep[6]);
    }

    [Theory]
    [InlineData("5", "found 5")]
    [InlineData("1e300", "found 1E+300")]
    public void A_profile_watchdog_override_obeys_the_limits_range(string ms, string found)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("p.json"), $$"""{ "transport": "sim", "watchdogMs": {{ms}} }""");
        var e = Assert.Throws<ConfigException>(() => ArmProfile.Load(dir.File("p.json")));
        Assert.Contains("field 'watchdogMs': expected a number in [10, 10000], " + found, e.Message);
    }

    [Theory]
    [InlineData("""{ "axisOrder": [0,0,2,3,4,5,6] }""", "expected a permutation of 0..6")]
    [InlineData("""{ "sign": [1,1,1,1,1,1,0.5] }""", "Sign[6]: expected +1 or -1")]
    [InlineData("""{ "scale": [1,1,1,1,1,1] }""", "field 'scale': expected 7 numbers, found 6")]
    public void Bad_mappings_name_the_file_and_field(string json, string expected)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("action.json"), json);
        var e = Assert.Throws<ConfigException>(() => RigCalibration.LoadAction(dir.File("action.json")));
        Assert.Contains("action.json", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_missing_rig_directory_is_named()
    {
        var e = Assert.Throws<ConfigException>(() => RigCalibration.Load(Path.Combine(Calibration, "no-such-rig")));
        Assert.Contains("no-such-rig", e.Message);
    }

    [Fact]
    public void Every_shipped_profile_loads_and_its_rig_resolves()
    {
        var files = Directory.GetFiles(Path.Combine(TestRig.RepoRoot, "hardware", "profiles"), "*.json");
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var profile = ArmProfile.Load(file);
            var rig = profile.LoadCalibration(Calibration);
            Assert.True(profile.CommandRateHz <= rig.Limits.MaxRateHz);
        }
        var mqtt = ArmProfile.Load(Path.Combine(TestRig.RepoRoot, "hardware", "profiles", "sim-mqtt.json"));
        Assert.Equal(ArmTransport.Mqtt, mqtt.Transport);
        Assert.Equal("sim1", mqtt.Mqtt!.RobotId);
        Assert.Equal(TimeSpan.FromMilliseconds(250), mqtt.LoadCalibration(Calibration).Limits.CommandWatchdog);
    }

    [Theory]
    [InlineData("""{ "transport": "usb" }""", "field 'transport': expected \"serial\", \"mqtt\" or \"sim\", found \"usb\"")]
    [InlineData("""{ "transport": "serial" }""", "field 'serial': expected an object (transport is serial), found nothing")]
    [InlineData("""{ "transport": "serial", "serial": { "device": "/dev/ttyUSB0", "baud": 12345 } }""", "Serial.Baud: expected a standard speed")]
    [InlineData("""{ "transport": "mqtt", "mqtt": { "robotId": "a/b" } }""", "Mqtt.RobotId: expected a non-empty id without '/'")]
    [InlineData("""{ "transport": "mqtt", "mqtt": { "robotId": "a", "port": "x" } }""", "field 'mqtt.port': expected an integer, found \"x\"")]
    [InlineData("""{ "transport": "sim", "commandRateHz": -1 }""", "field 'commandRateHz': expected a number > 0, found -1")]
    public void Bad_profiles_name_the_file_and_field(string json, string expected)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("p.json"), json);
        var e = Assert.Throws<ConfigException>(() => ArmProfile.Load(dir.File("p.json")));
        Assert.Contains("p.json", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_profile_faster_than_its_rig_allows_is_refused()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("p.json"), """{ "transport": "sim", "commandRateHz": 100 }""");
        var e = Assert.Throws<ConfigException>(() => ArmProfile.Load(dir.File("p.json")).LoadCalibration(Calibration));
        Assert.Contains("exceeds the rig's maxRateHz 50", e.Message);
    }

    [Fact]
    public async Task The_factory_builds_the_link_the_profile_names()
    {
        var dir = Path.Combine(TestRig.RepoRoot, "hardware", "profiles");
        await using var serial = ArmLinkFactory.Create(ArmProfile.Load(Path.Combine(dir, "sim-serial.json")));
        Assert.IsType<SerialArmLink>(serial);
        Assert.Equal("serial /tmp/robotctl-arm-ctl @ 1000000", serial.Description);
        await using var mqtt = ArmLinkFactory.Create(ArmProfile.Load(Path.Combine(dir, "sim-mqtt.json")));
        Assert.IsType<MqttArmLink>(mqtt);
        // The simulated arm is not a link Hardware makes: the host registers it (DeviceRegistry).
        var e = Assert.Throws<ConfigException>(() => ArmLinkFactory.Create(ArmProfile.Load(Path.Combine(dir, "sim.json"))));
        Assert.Contains("transport sim", e.Message);
    }
}
