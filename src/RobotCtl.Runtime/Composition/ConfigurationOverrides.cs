using System.Globalization;

namespace RobotCtl.Runtime.Composition;

/// <summary>
/// A command's options as configuration overrides, in order (later wins): <see cref="Set"/> leaves out an option that
/// was not given (null) and writes numbers culture-invariantly.
/// </summary>
public sealed class ConfigurationOverrides : List<KeyValuePair<string, string?>>
{
    public void Set(string key, object? value)
    {
        if (value is not null) Add(new(key, Convert.ToString(value, CultureInfo.InvariantCulture)));
    }
}
