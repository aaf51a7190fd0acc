using RobotCtl.Core.Arm;
using RobotCtl.Core.Timing;

namespace RobotCtl.Sim;

/// <summary>
/// An in-process link to a <see cref="SimWorkcell"/>. <see cref="TrySend"/> applies the command at once on the
/// caller's thread (the command streamer already paces commands at the configured rate, so one send is one sim
/// step); <see cref="TryGetLatestState"/> reads the workcell's state stamped now. Events are raised on the
/// calling thread.
/// </summary>
public sealed class SimArmLink(SimWorkcell workcell) : IArmLink
{
    private readonly SimWorkcell _workcell = workcell ?? throw new ArgumentNullException(nameof(workcell));
    private volatile ArmLinkStatus _status = ArmLinkStatus.Disconnected;

    public string Description => "sim (in-process)";

    public ArmLinkStatus Status => _status;

    public SimWorkcell Workcell => _workcell;

    public event Action<ArmLinkEvent>? EventRaised;

    public Task ConnectAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        SetStatus(ArmLinkStatus.Online, "connected to the in-process sim");
        return Task.CompletedTask;
    }

    /// <summary>Applies the command; false when not connected, or (with an event) when the command is not finite.</summary>
    public bool TrySend(in EeCommand command)
    {
        if (_status != ArmLinkStatus.Online) return false;
        if (!command.IsFinite)
        {
            EventRaised?.Invoke(new ArmLinkEvent(_status, $"sim rejected a non-finite command {command}", MonotonicClock.Now));
            return false;
        }
        _workcell.Apply(command);
        return true;
    }

    public bool TryGetLatestState(out ArmState state)
    {
        if (_status != ArmLinkStatus.Online)
        {
            state = default;
            return false;
        }
        state = _workcell.CurrentState;
        return true;
    }

    public ValueTask DisposeAsync()
    {
        if (_status != ArmLinkStatus.Disconnected) SetStatus(ArmLinkStatus.Disconnected, "disconnected from the in-process sim");
        return ValueTask.CompletedTask;
    }

    private void SetStatus(ArmLinkStatus status, string message)
    {
        _status = status;
        EventRaised?.Invoke(new ArmLinkEvent(status, message, MonotonicClock.Now));
    }
}
