using System.CommandLine;

namespace RobotCtl.Host.Commands;

// PLACEHOLDER: replaced by the owner of this command group.
internal static class RunCommand
{
    public static Command Create()
    {
        var command = new Command("run", "(not built yet)");
        command.SetAction(_ => { Console.Error.WriteLine("robotctl run: not built yet"); return 2; });
        return command;
    }
}
