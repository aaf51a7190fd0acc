using System.CommandLine;

namespace RobotCtl.Host.Commands;

// PLACEHOLDER: replaced by the owner of this command group.
internal static class PlanCommand
{
    public static Command Create()
    {
        var command = new Command("plan", "(not built yet)");
        command.SetAction(_ => { Console.Error.WriteLine("robotctl plan: not built yet"); return 2; });
        return command;
    }
}
