namespace RobotCtl.Runtime;

/// <summary>A configuration value that cannot be used, naming its key, what was expected and what was found.</summary>
public sealed class ConfigurationValueException : Exception
{
    public ConfigurationValueException(string key, string expected, object? found)
        : base($"configuration {key}: expected {expected}, found {Format(found)}") => Key = key;

    public ConfigurationValueException(string message) : base($"configuration {message}") => Key = "";

    public string Key { get; }

    private static string Format(object? v) => v switch { null => "nothing", string s => $"\"{s}\"", _ => v.ToString() ?? "?" };
}
