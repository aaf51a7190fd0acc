namespace RobotCtl.Runtime.Devices;

/// <summary>
/// What one run's camera and arm share: a simulated camera must watch the workcell the simulated arm moves, so both
/// providers ask for the same object here. A caller may put one in first (eval's episode workcell, a test's workcell
/// served over a real transport); otherwise the first provider that needs it makes it.
/// </summary>
public sealed class RunWorld
{
    private readonly Dictionary<Type, object> _shared = [];

    /// <summary>Whether the caller supplied anything (a run over a world the caller also watches).</summary>
    public bool SuppliedByCaller { get; private set; }

    /// <summary>Puts <paramref name="value"/> in before the run is built; the run's providers then use it.</summary>
    public RunWorld With<T>(T value) where T : class
    {
        ArgumentNullException.ThrowIfNull(value);
        _shared[typeof(T)] = value;
        SuppliedByCaller = true;
        return this;
    }

    /// <summary>The run's one <typeparamref name="T"/>, made by <paramref name="create"/> on first use.</summary>
    public T Shared<T>(Func<T> create) where T : class
    {
        if (_shared.TryGetValue(typeof(T), out var existing)) return (T)existing;
        var made = create();
        _shared[typeof(T)] = made;
        return made;
    }
}
