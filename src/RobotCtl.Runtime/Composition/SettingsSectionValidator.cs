using Microsoft.Extensions.Options;

namespace RobotCtl.Runtime.Composition;

/// <summary>
/// A settings section's own range checks as an <see cref="IValidateOptions{TOptions}"/>: each section keeps its rules
/// next to its keys (<c>Validate()</c>, throwing <see cref="ConfigurationValueException"/> naming the key), and the
/// options pattern runs them when the section is first read or, in a generic host, on start (ValidateOnStart).
/// </summary>
internal sealed class SettingsSectionValidator<T>(Action<T> validate) : IValidateOptions<T> where T : class
{
    public ValidateOptionsResult Validate(string? name, T options)
    {
        try
        {
            validate(options);
            return ValidateOptionsResult.Success;
        }
        catch (ConfigurationValueException e)
        {
            return ValidateOptionsResult.Fail(e.Message);
        }
    }
}
