using RobotCtl.Core.Vision;
using RobotCtl.Core.WorldModel;

namespace RobotCtl.Host.Commands;

/// <summary>One place that turns a failure into a one-line reason on stderr and an exit code: never a stack trace.</summary>
internal static class CliErrors
{
    public const int BadInput = 2;

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
}
