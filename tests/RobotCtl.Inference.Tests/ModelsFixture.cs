using RobotCtl.Inference.WorldModel;

namespace RobotCtl.Inference.Tests;

/// <summary>The example models, loaded once for a test class.</summary>
public sealed class ModelsFixture : IDisposable
{
    private readonly Dictionary<string, OnnxWorldModel> _models = [];
    private readonly Lock _gate = new();

    public OnnxWorldModel Get(string name)
    {
        lock (_gate)
        {
            if (!_models.TryGetValue(name, out var model))
                _models[name] = model = OnnxWorldModel.Load(TestData.Example(name), TestData.Cpu);
            return model;
        }
    }

    public void Dispose()
    {
        foreach (var model in _models.Values) model.Dispose();
    }
}
