using System.CommandLine;

namespace RobotCtl.Host.Commands;

// PLACEHOLDER: replaced by the owner of this command group.
internal static class CalibrateCommands
{
    public static Command Create()
    {
        var command = new Command("calibrate", "(not built yet)");
        command.SetAction(_ => { Console.Error.WriteLine("robotctl calibrate: not built yet"); return 2; });
        return command;
    }
}
