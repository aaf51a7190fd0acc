using System.CommandLine;

namespace RobotCtl.Host.Commands;

// PLACEHOLDER: replaced by the owner of this command group.
internal static class SimArmCommand
{
    public static Command Create()
    {
        var command = new Command("sim-arm", "(not built yet)");
        command.SetAction(_ => { Console.Error.WriteLine("robotctl sim-arm: not built yet"); return 2; });
        return command;
    }
}
