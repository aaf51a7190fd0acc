namespace RobotCtl.Dashboard;

/// <summary>Where the dashboard listens and who may use it (the "Dashboard" configuration section; --listen, --token).</summary>
public sealed record DashboardOptions
{
    public const string SectionName = "Dashboard";
    public const string DefaultListen = "127.0.0.1:5080";

    /// <summary>HOST:PORT; HOST is an IP address, [IPv6] or localhost; port 0 picks a free port.</summary>
    public string Listen { get; init; } = DefaultListen;

    /// <summary>When set, every request must carry it (Authorization: Bearer, or ?token= on GET). Required off loopback.</summary>
    public string? Token { get; init; }

    /// <summary>The recorded episodes the browser lists (null: no episode browser).</summary>
    public string? EpisodesDirectory { get; init; }

    /// <summary>Where uploaded and snapshot goal images are saved (null: uploads refused). Nothing is written elsewhere.</summary>
    public string? GoalDirectory { get; init; }
}
