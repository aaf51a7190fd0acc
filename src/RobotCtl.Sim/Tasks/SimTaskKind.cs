namespace RobotCtl.Sim.Tasks;

public enum SimTaskKind
{
    Reach,
    Push,
}
