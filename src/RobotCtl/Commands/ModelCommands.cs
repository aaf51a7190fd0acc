using System.CommandLine;

namespace RobotCtl.Host.Commands;

// PLACEHOLDER: replaced by the owner of this command group.
internal static class ModelCommands
{
    public static Command Create()
    {
        var command = new Command("model", "(not built yet)");
        command.SetAction(_ => { Console.Error.WriteLine("robotctl model: not built yet"); return 2; });
        return command;
    }
}
