namespace RobotCtl.Dashboard;

/// <summary>Something about the dashboard's settings that keeps it from starting (the CLI exits 2 naming the option).</summary>
public sealed class DashboardConfigurationException(string message) : Exception(message);
