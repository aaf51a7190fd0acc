namespace RobotCtl.Runtime;

/// <summary>A configuration value that cannot be used, naming its key, what was expected and what was found.</summary>
public sealed class ConfigurationValueException : Exception
{
    public ConfigurationValueException(string key, string expected, object? found)
        : base($"configuration {key}: expected {expected}, found {Format(found)}") => Key = key;

    public ConfigurationValueException(string message) : base($"configuration {message}") => Key = "";

    private ConfigurationValueException(string fullMessage, Exception inner) : base(fullMessage, inner) => Key = "";

    /// <summary>A section validator's failure (<see cref="Composition.SettingsSectionValidator{T}"/>), reported in its own words.</summary>
    internal static ConfigurationValueException From(Microsoft.Extensions.Options.OptionsValidationException e) =>
        new(string.Join("; ", e.Failures), e);

    public string Key { get; }

    private static string Format(object? v) => v switch { null => "nothing", string s => $"\"{s}\"", _ => v.ToString() ?? "?" };
}
