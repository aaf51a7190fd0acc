using System.CommandLine;

namespace RobotCtl.Host.Commands;

// PLACEHOLDER: replaced by the owner of this command group.
internal static class ReplayCommand
{
    public static Command Create()
    {
        var command = new Command("replay", "(not built yet)");
        command.SetAction(_ => { Console.Error.WriteLine("robotctl replay: not built yet"); return 2; });
        return command;
    }
}
