using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace RobotCtl.Host.Composition;

/// <summary>The effective configuration as JSON (section -> key -> value), stored with each episode.</summary>
public static class ConfigurationJson
{
    public static string Of(IConfiguration configuration)
    {
        var sections = new SortedDictionary<string, SortedDictionary<string, string?>>(StringComparer.Ordinal);
        foreach (var name in new[] { "Runtime", "Planner", "Surprise", "Recording", "Sim", "Inference" })
        {
            var values = new SortedDictionary<string, string?>(StringComparer.Ordinal);
            foreach (var kv in configuration.GetSection(name).AsEnumerable(makePathsRelative: true))
                if (kv.Value is not null) values[kv.Key] = kv.Value;
            sections[name] = values;
        }
        return JsonSerializer.Serialize(sections);
    }
}
