using Microsoft.Extensions.Configuration;

namespace RobotCtl.Runtime.Composition;

/// <summary>
/// Builds robotctl's configuration: appsettings.json in the home, then ROBOTCTL_-prefixed environment variables
/// (ROBOTCTL_Runtime__Camera=...), then command-line overrides (--set Runtime:Camera=... and the commands' own
/// options), later sources winning.
/// </summary>
public static class AppConfiguration
{
    public const string EnvironmentPrefix = "ROBOTCTL_";

    public static IConfigurationRoot Build(IEnumerable<KeyValuePair<string, string?>>? overrides = null, string? settingsFile = null)
    {
        var file = settingsFile ?? Path.Combine(RobotCtlHome.Path, "appsettings.json");
        var builder = new ConfigurationBuilder();
        if (File.Exists(file)) builder.AddJsonFile(file, optional: false, reloadOnChange: false);
        builder.AddEnvironmentVariables(EnvironmentPrefix);
        if (overrides is not null)
        {
            // Later overrides win (an explicit --set over an option that maps to the same key).
            var merged = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (var (key, value) in overrides) merged[key] = value;
            builder.AddInMemoryCollection(merged);
        }
        try
        {
            return builder.Build();
        }
        catch (Exception e) when (e is FormatException or InvalidDataException)
        {
            throw new InvalidOperationException($"{file}: not valid JSON: {e.InnerException?.Message ?? e.Message}", e);
        }
    }

    /// <summary>Parses "--set Key=Value" arguments ("Runtime:Camera=sim"); a missing '=' is an error naming the argument.</summary>
    public static IEnumerable<KeyValuePair<string, string?>> ParseSets(IEnumerable<string>? sets)
    {
        foreach (var s in sets ?? [])
        {
            var eq = s.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"--set {s}: expected Section:Key=Value");
            yield return new(s[..eq].Trim(), s[(eq + 1)..]);
        }
    }

    /// <summary>Binds a section onto a new options object; a value of the wrong type is refused with its key.</summary>
    public static T Bind<T>(IConfiguration configuration, string section) where T : new()
    {
        var value = new T();
        try
        {
            configuration.GetSection(section).Bind(value, o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"configuration section {section}: {e.Message}", e);
        }
        return value;
    }
}
