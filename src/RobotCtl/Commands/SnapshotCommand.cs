using System.CommandLine;

namespace RobotCtl.Host.Commands;

// PLACEHOLDER: replaced by the owner of this command group.
internal static class SnapshotCommand
{
    public static Command Create()
    {
        var command = new Command("snapshot", "(not built yet)");
        command.SetAction(_ => { Console.Error.WriteLine("robotctl snapshot: not built yet"); return 2; });
        return command;
    }
}
