using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using RobotCtl.Core.Vision;
using RobotCtl.Core.WorldModel;
using RobotCtl.Runtime;
using RobotCtl.Runtime.Composition;

namespace RobotCtl.Host.Commands;

/// <summary>One place that turns a failure into a one-line reason on stderr and an exit code: never a stack trace.</summary>
internal static class CliErrors
{
    public const int BadInput = ExitCodes.BadInput;

    public static int Fail(string command, Exception e, int exitCode = BadInput)
    {
        var message = e switch
        {
            AggregateException { InnerExceptions.Count: 1 } a => a.InnerException!.Message,
            _ => e.Message,
        };
        Console.Error.WriteLine($"robotctl {command}: {Describe(e)}{message.ReplaceLineEndings(" ")}");
        if (Environment.GetEnvironmentVariable("ROBOTCTL_DEBUG") == "1") Console.Error.WriteLine(e);
        return exitCode;
    }

    private static string Describe(Exception e) => e switch
    {
        WorldModelException => "model: ",
        CameraException => "camera: ",
        FileNotFoundException or DirectoryNotFoundException => "not found: ",
        _ => "",
    };

    /// <summary>
    /// Parse errors as one line on stderr, exit <see cref="BadInput"/> (System.CommandLine's own action prints the whole
    /// help and exits 1). Wording names the option and says what was expected and what was found.
    /// </summary>
    public static int ParseFailed(ParseResult parse)
    {
        var command = string.Join(' ', CommandPath(parse.CommandResult));
        var reasons = parse.Errors.Select(e => Reword(e, parse)).Distinct().ToList();
        var where = string.IsNullOrEmpty(command) ? "robotctl" : $"robotctl {command}";
        Console.Error.WriteLine($"{where}: {string.Join("; ", reasons)} (see {where} --help)");
        return BadInput;
    }

    private static IEnumerable<string> CommandPath(CommandResult result)
    {
        var names = new Stack<string>();
        for (SymbolResult? r = result; r is not null; r = r.Parent)
            if (r is CommandResult { Command: not RootCommand } c) names.Push(c.Command.Name);
        return names;
    }

    private static string Reword(ParseError error, ParseResult parse)
    {
        switch (error.SymbolResult)
        {
            case OptionResult { Option: var option } o when o.Tokens.Count > 0 && Unconvertible(option.ValueType, o.Tokens) is { } bad:
                return $"{option.Name}: expected {Expected(option.ValueType)}, found '{bad}'";
            case ArgumentResult { Parent: OptionResult { Option: var option } } a when Unconvertible(option.ValueType, a.Tokens) is { } bad:
                return $"{option.Name}: expected {Expected(option.ValueType)}, found '{bad}'";
            case ArgumentResult { Argument: var argument } a when Unconvertible(argument.ValueType, a.Tokens) is { } bad:
                return $"<{argument.Name}>: expected {Expected(argument.ValueType)}, found '{bad}'";
        }
        // Unmatched tokens: an option-like token is an unknown option, anything else an extra argument.
        var token = parse.UnmatchedTokens.FirstOrDefault(t => error.Message.Contains($"'{t}'", StringComparison.Ordinal));
        if (token is not null)
            return token.StartsWith('-') && token.Length > 1 && !double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
                ? $"unknown option '{token}'"
                : $"unexpected argument '{token}'";
        var message = string.Join(' ', error.Message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        // System.CommandLine's wording, shortened to the same "option: expected ..., found ..." form as ours.
        if (System.Text.RegularExpressions.Regex.Match(message, @"^Argument '(.*)' not recognized\. Must be one of: (.*)$") is { Success: true } m)
            message = $"expected one of {string.Join(", ", m.Groups[2].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => v.Trim('\'')))}, found '{m.Groups[1].Value}'";
        else if (System.Text.RegularExpressions.Regex.Match(message, @"^Option '(.*)' is required\.$") is { Success: true } r)
            message = $"{r.Groups[1].Value} is required";
        else if (message == "Required command was not provided.")
            message = "expected a command";
        else if (System.Text.RegularExpressions.Regex.IsMatch(message, @"^Required argument missing for command: '.*'\.$")
                 && parse.CommandResult.Command.Arguments.FirstOrDefault() is { } argument)
            message = $"<{argument.Name}> is required{(argument.Description is { Length: > 0 } d ? $" ({d})" : "")}";
        // Other errors of an option (a value outside AcceptOnlyFromAmong, a validator's): make sure the option is named.
        var owner = error.SymbolResult switch { OptionResult o => o.Option, ArgumentResult { Parent: OptionResult o } => o.Option, _ => null };
        return owner is not null && !message.Contains(owner.Name, StringComparison.Ordinal) ? $"{owner.Name}: {message}" : message;
    }

    /// <summary>The first token that does not convert to <paramref name="type"/>, or null (then the error is of another kind).</summary>
    private static string? Unconvertible(Type type, IReadOnlyList<Token> tokens)
    {
        var t = Nullable.GetUnderlyingType(type) ?? (type.IsArray ? type.GetElementType()! : type);
        foreach (var token in tokens)
        {
            var v = token.Value;
            var ok = t == typeof(int) ? int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
                : t == typeof(long) ? long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
                : t == typeof(ulong) ? ulong.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
                : t == typeof(double) ? double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
                : t == typeof(float) ? float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
                : t == typeof(bool) ? bool.TryParse(v, out _)
                : t.IsEnum ? Enum.TryParse(t, v, ignoreCase: true, out _)
                : true;
            if (!ok) return v;
        }
        return null;
    }

    private static string Expected(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? (type.IsArray ? type.GetElementType()! : type);
        if (t == typeof(int) || t == typeof(long)) return "an integer";
        if (t == typeof(ulong)) return "an integer >= 0";
        if (t == typeof(double) || t == typeof(float)) return "a number";
        if (t == typeof(bool)) return "true or false";
        if (t.IsEnum) return $"one of {string.Join(", ", Enum.GetNames(t).Select(n => n.ToLowerInvariant()))}";
        return t.Name;
    }

    /// <summary>The option's single value as an int, or null when absent or not an integer (the parser reports that itself).</summary>
    public static int? IntValue(OptionResult? result) =>
        result is { Tokens: [var t] } && int.TryParse(t.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;

    /// <summary>The option's single value as a double, or null when absent or not a number.</summary>
    public static double? DoubleValue(OptionResult? result) =>
        result is { Tokens: [var t] } && double.TryParse(t.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;

    /// <summary>
    /// Refuses a count outside <paramref name="min"/>..<paramref name="max"/> at parse time, naming the option and, for
    /// the upper bound, why it exists (<paramref name="why"/> of the value found; exit 2 like any bad input): a typo must
    /// not ask for more memory or time than the machine has.
    /// </summary>
    public static void Bounded(Option option, int min, int max = int.MaxValue, Func<int, string>? why = null) => option.Validators.Add(r =>
    {
        if (IntValue(r) is { } v && OutOfRange(option.Name, v, min, max, why) is { } error) r.AddError(error);
    });

    /// <summary>The one-line reason a count is outside <paramref name="min"/>..<paramref name="max"/>, or null.</summary>
    public static string? OutOfRange(string name, int value, int min, int max = int.MaxValue, Func<int, string>? why = null) =>
        value < min ? $"{name}: expected an integer >= {min}, found {value}"
        : value > max ? $"{name}: expected at most {max}{(why is null ? "" : $" ({why(value)})")}, found {value}"
        : null;

    /// <summary>Upper bounds of the planner's sizes (<see cref="PlannerSettings.MaxSamples"/>) and why they exist.</summary>
    public static readonly (int Max, Func<int, string> Why) SamplesLimit = (PlannerSettings.MaxSamples, n => PlannerSettings.SamplesMemory(n)),
        IterationsLimit = (PlannerSettings.MaxIterations, _ => "bound a plan's time with --deadline-ms instead"),
        HorizonLimit = (PlannerSettings.MaxHorizon, _ => "action blocks planned ahead");

    /// <summary>The planner's size options, each within 1..its upper bound.</summary>
    public static void PlannerSizes(Option? samples = null, Option? topk = null, Option? iterations = null, Option? horizon = null)
    {
        if (samples is not null) Bounded(samples, 1, SamplesLimit.Max, SamplesLimit.Why);
        if (topk is not null) Bounded(topk, 1, SamplesLimit.Max, _ => "and at most --samples");
        if (iterations is not null) Bounded(iterations, 1, IterationsLimit.Max, IterationsLimit.Why);
        if (horizon is not null) Bounded(horizon, 1, HorizonLimit.Max, HorizonLimit.Why);
    }

    /// <summary>Refuses an empty or blank value (an empty string would silently mean "the default").</summary>
    public static void NotBlank(Option option, string expected) => option.Validators.Add(r =>
    {
        if (r.Tokens is [var t] && string.IsNullOrWhiteSpace(t.Value)) r.AddError($"{option.Name}: expected {expected}, found an empty value");
    });

    /// <summary>
    /// Console logging for the commands: every level on stderr, so that stdout carries only results and progress
    /// (a table, JSON) that scripts can read.
    /// </summary>
    public static ILoggingBuilder AddStderrConsole(this ILoggingBuilder builder, string? timestampFormat = "HH:mm:ss.fff ")
    {
        builder.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = timestampFormat; });
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        return builder;
    }

    /// <summary>
    /// Refuses an image option's value that cannot be an image file before anything is loaded: an unknown option that
    /// a multi-value option swallowed ("--goal=a.png --bogus"), a directory, a missing file.
    /// </summary>
    public static void ValidateImageFiles(Option option)
    {
        option.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                var value = token.Value;
                var path = RobotCtlHome.Resolve(value);
                if (File.Exists(path)) continue;
                if (value.StartsWith('-'))
                    result.AddError($"unknown option '{value}' (after {option.Name}, which takes image files)");
                else if (Directory.Exists(path))
                    result.AddError($"{option.Name} {value}: is a directory, expected an image file (PNG/JPEG/BMP)");
                else
                    result.AddError($"{option.Name} {value}: image file not found ({path})");
                return;
            }
        });
    }

    /// <summary>Refuses a path option's value that is a file or missing, when a directory is expected (the message names the option).</summary>
    public static void ValidateDirectory(Option option, string expected) => option.Validators.Add(r =>
    {
        if (r.Tokens is not [var t]) return;
        var path = RobotCtlHome.Resolve(t.Value);
        if (File.Exists(path)) r.AddError($"{option.Name} {t.Value}: is a file, expected {expected}");
        else if (!Directory.Exists(path)) r.AddError($"{option.Name} {t.Value}: directory not found ({path})");
    });

    /// <summary>
    /// A camera source that is clearly a local path (absolute or ./, ../) and names nothing. Indices, sim, rtsp://...,
    /// gst:... and /dev/video devices are left to the camera factory.
    /// </summary>
    public static bool IsMissingLocalPath(string source) =>
        (source.StartsWith('/') || source.StartsWith("./", StringComparison.Ordinal) || source.StartsWith("../", StringComparison.Ordinal))
        && !source.StartsWith("/dev/", StringComparison.Ordinal) && !File.Exists(source) && !Directory.Exists(source);
}
