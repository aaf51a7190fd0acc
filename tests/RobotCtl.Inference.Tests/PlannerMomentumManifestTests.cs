using System.Text.Json.Nodes;
using RobotCtl.Core.WorldModel;
using RobotCtl.Inference.WorldModel;

namespace RobotCtl.Inference.Tests;

/// <summary>
/// The optional planner fields an imported V-JEPA 2-AC model carries (its authors' cem: momentum on the mean and the
/// std, the gripper dead-band): read when present, 0 when absent, and a bad value refused naming the field, expected
/// and found, as every manifest check (BrokenModelTests).
/// </summary>
public class PlannerMomentumManifestTests
{
    [Fact]
    public void Momentum_and_gripper_deadband_are_read_and_default_to_zero()
    {
        using (var plain = OnnxWorldModel.Load(TestData.Broken("good-tiny"), TestData.Cpu))
            Assert.Equal((0f, 0f, 0f), (plain.Spec.Planner.MeanMomentum, plain.Spec.Planner.StdMomentum, plain.Spec.Planner.GripperDeadband));

        var directory = Edited("""{"planner": {"mean_momentum": 0.15, "std_momentum": 0.95, "gripper_deadband": 0.25}}""");
        try
        {
            using var model = OnnxWorldModel.Load(directory, TestData.Cpu);
            Assert.Equal((0.15f, 0.95f, 0.25f), (model.Spec.Planner.MeanMomentum, model.Spec.Planner.StdMomentum, model.Spec.Planner.GripperDeadband));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("""{"planner": {"mean_momentum": 1}}""", "planner.mean_momentum must be a number in [0, 1) or absent, found 1")]
    [InlineData("""{"planner": {"std_momentum": -0.1}}""", "planner.std_momentum must be a number in [0, 1) or absent, found -0.1")]
    [InlineData("""{"planner": {"std_momentum": "0.5"}}""", "planner.std_momentum must be a number in [0, 1) or absent, found \"0.5\"")]
    [InlineData("""{"planner": {"gripper_deadband": -0.25}}""", "planner.gripper_deadband must be a finite number >= 0 or absent, found -0.25")]
    public void A_bad_value_names_the_field_expected_and_found(string edit, string expected)
    {
        var directory = Edited(edit);
        try
        {
            var error = Assert.Throws<WorldModelException>(() => OnnxWorldModel.Load(directory, TestData.Cpu));
            Assert.Contains(Path.Combine(directory, "model.json"), error.Message);
            Assert.Contains(expected, error.Message);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string Edited(string edit)
    {
        var target = Directory.CreateTempSubdirectory("robotctl-model-").FullName;
        foreach (var file in Directory.GetFiles(TestData.Broken("good-tiny")))
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(target, "model.json")))!.AsObject();
        var planner = json["planner"]!.AsObject();
        foreach (var (key, value) in JsonNode.Parse(edit)!["planner"]!.AsObject().ToList()) planner[key] = value?.DeepClone();
        File.WriteAllText(Path.Combine(target, "model.json"), json.ToJsonString());
        return target;
    }
}
