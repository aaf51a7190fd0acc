using ScottPlot;

namespace RobotCtl.Dashboard;

/// <summary>One stacked panel of the summary plot: a titled series over the steps; null or non-finite values are gaps.</summary>
internal sealed record SummaryPanel(string Title, string YLabel, IReadOnlyList<(long Step, double? Value)> Points, Color Color);
