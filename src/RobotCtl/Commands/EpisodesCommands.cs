using System.CommandLine;

namespace RobotCtl.Host.Commands;

// PLACEHOLDER: replaced by the owner of this command group.
internal static class EpisodesCommands
{
    public static Command Create()
    {
        var command = new Command("episodes", "(not built yet)");
        command.SetAction(_ => { Console.Error.WriteLine("robotctl episodes: not built yet"); return 2; });
        return command;
    }
}
