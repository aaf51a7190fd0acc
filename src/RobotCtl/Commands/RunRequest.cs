using RobotCtl.Runtime;
using RobotCtl.Runtime.Composition;

namespace RobotCtl.Host.Commands;

/// <summary>What `run` (and `demo`) were asked on the command line; everything maps onto configuration keys.</summary>
internal sealed record RunRequest
{
    public IReadOnlyList<string> Goals { get; init; } = [];
    public bool Sim { get; init; }
    public string? Model { get; init; }
    public string? Camera { get; init; }
    public string? Arm { get; init; }
    public string? Calibration { get; init; }
    public string? Record { get; init; }
    public bool NoRecord { get; init; }
    public int? MaxSteps { get; init; }
    public int? Seed { get; init; }
    public ReplanMode? Replan { get; init; }
    public double? DeadlineMs { get; init; }
    public int? Samples { get; init; }
    public int? Iterations { get; init; }
    public string? CostShape { get; init; }
    public string? SimScene { get; init; }
    public IReadOnlyList<string> Sets { get; init; } = [];
    public bool AllowUnlinkedCamera { get; init; }
    public bool Quiet { get; init; }
    public bool Verbose { get; init; }

    /// <summary>Serve the operator dashboard while the loop runs (`run --dashboard`), on <see cref="DashboardListen"/>.</summary>
    public bool Dashboard { get; init; }
    public string? DashboardListen { get; init; }
    public string? DashboardToken { get; init; }

    /// <summary>Command-line values as typed overrides (they win over appsettings.json and the environment; --set wins over them).</summary>
    public SettingsOverrides Overrides() => new()
    {
        Sim = Sim, Model = Model, Camera = Camera, Arm = Arm, Calibration = Calibration, MaxSteps = MaxSteps, Seed = Seed,
        ReplanMode = Replan, DeadlineMs = DeadlineMs, Samples = Samples, Iterations = Iterations, CostShape = CostShape,
        SimScene = SimScene, RecordTo = Record, Record = NoRecord ? false : null, AllowUnlinkedCamera = AllowUnlinkedCamera ? true : null, Sets = Sets,
    };
}
