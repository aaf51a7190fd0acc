using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace RobotCtl.Runtime.Composition;

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

    /// <summary>A recorded configuration JSON (section -> key -> value) back into an IConfiguration; <paramref name="overrides"/> win.</summary>
    public static IConfiguration Read(string? json, params KeyValuePair<string, string?>[] overrides)
    {
        var values = new List<KeyValuePair<string, string?>>();
        if (!string.IsNullOrEmpty(json))
        {
            var sections = JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, string?>>>(json) ?? [];
            foreach (var (section, keys) in sections)
                foreach (var (key, value) in keys) values.Add(new($"{section}:{key}", value));
        }
        return new ConfigurationBuilder().AddInMemoryCollection(values).AddInMemoryCollection(overrides).Build();
    }
}
