using System.ComponentModel;
using System.Reflection;
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

    /// <param name="settingsFile">Read instead of the home's appsettings.json, when it exists (tests: built-in defaults).</param>
    public static IConfigurationRoot Build(IEnumerable<KeyValuePair<string, string?>>? overrides = null, string? settingsFile = null)
    {
        var file = settingsFile ?? Path.Combine(RobotCtlHome.Path, "appsettings.json");
        // The home's settings name the model, calibration and limits: running on built-in defaults instead (a
        // random-weight example model) without a word would look like a working robot that plans nonsense.
        if (Directory.Exists(file)) throw new InvalidOperationException($"{file}: is a directory, expected robotctl's settings file (JSON)");
        if (settingsFile is null && !File.Exists(file))
            throw new InvalidOperationException($"{file}: settings file not found; robotctl's home is {RobotCtlHome.Path} " +
                $"(set {RobotCtlHome.EnvironmentVariable} to the folder that holds appsettings.json, models/ and calibration/)");
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

    /// <summary>The home's settings with typed overrides on top, <paramref name="later"/> layers winning over earlier ones.</summary>
    public static IConfigurationRoot Build(SettingsOverrides overrides, params SettingsOverrides[] later) =>
        Build(later.Prepend(overrides).SelectMany(l => l.ToConfiguration()));

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

    /// <summary>Binds a section onto a new options object; an unknown key or a value of the wrong type is refused with its key.</summary>
    public static T Bind<T>(IConfiguration configuration, string section) where T : class, new()
    {
        var value = new T();
        BindInto(configuration, section, value);
        return value;
    }

    /// <summary>Binds a section onto <paramref name="value"/> (the options pattern's instance), after the same key checks.</summary>
    public static void BindInto<T>(IConfiguration configuration, string section, T value) where T : class
    {
        Check<T>(configuration, section);
        try
        {
            configuration.GetSection(section).Bind(value, o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"configuration section {section}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Checks every key of a section against <typeparamref name="T"/>'s settable properties before binding, so a typo
    /// or a wrong type is reported as "configuration Section:Key: expected ..., found ..." rather than in the
    /// binder's words.
    /// </summary>
    public static void Check<T>(IConfiguration configuration, string section)
    {
        var properties = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true })
            .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var child in configuration.GetSection(section).GetChildren())
        {
            var key = $"{section}:{child.Key}";
            if (!properties.TryGetValue(child.Key, out var property))
                throw new ConfigurationValueException($"{key}: unknown setting; the {section} settings are {string.Join(", ", properties.Keys.Order(StringComparer.Ordinal))}");
            if (child.Value is not { } text) continue;
            var nullable = Nullable.GetUnderlyingType(property.PropertyType);
            var type = nullable ?? property.PropertyType;
            if (text.Length == 0 && (nullable is not null || !type.IsValueType)) continue;
            if (type == typeof(string)) continue;
            bool ok;
            try
            {
                ok = TypeDescriptor.GetConverter(type).ConvertFromInvariantString(text) is not null;
            }
            catch (Exception e) when (e is FormatException or ArgumentException or NotSupportedException || e.InnerException is FormatException or OverflowException)
            {
                ok = false;
            }
            if (!ok) throw new ConfigurationValueException(key, Expected(type), text);
        }
    }

    private static string Expected(Type type) =>
        type.IsEnum ? $"one of {string.Join(", ", Enum.GetNames(type).Select(n => n.ToLowerInvariant()))}"
        : type == typeof(bool) ? "true or false"
        : type == typeof(int) || type == typeof(long) ? "an integer"
        : type == typeof(double) || type == typeof(float) ? "a number"
        : $"a {type.Name}";
}
