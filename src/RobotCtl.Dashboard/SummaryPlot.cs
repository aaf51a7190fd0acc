using ScottPlot;

namespace RobotCtl.Dashboard;

/// <summary>
/// The episode summary PNG drawn with ScottPlot: one panel per series stacked top to bottom, each with its own y axis
/// and the same step range on x, so a moment in the episode lines up across the panels.
/// </summary>
internal static class SummaryPlot
{
    public const int Width = 960, Height = 720;

    // The same padding for every panel keeps their data areas aligned whatever the width of their tick labels.
    private static readonly PixelPadding PanelPadding = new(left: 90, right: 20, bottom: 45, top: 36);

    // Named, because ScottPlot's default (Segoe UI, Open Sans) is absent on Debian and Skia then falls back to a serif;
    // scripts/setup installs fonts-dejavu-core.
    private const string FontName = "DejaVu Sans";

    public static void SavePng(string path, IReadOnlyList<SummaryPanel> panels)
    {
        var steps = panels.SelectMany(p => p.Points).Select(p => p.Step).DefaultIfEmpty(0).ToArray();
        long firstStep = steps.Min(), lastStep = steps.Max();
        var multiplot = new Multiplot();
        multiplot.AddPlots(panels.Count);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Rows();
        for (var i = 0; i < panels.Count; i++) Draw(multiplot.GetPlot(i), panels[i], firstStep, lastStep);
        multiplot.SavePng(path, Width, Height);
    }

    private static void Draw(Plot plot, SummaryPanel panel, long firstStep, long lastStep)
    {
        plot.Font.Set(FontName);
        plot.Title(panel.Title, size: 14);
        plot.Axes.Title.Label.Bold = true;
        plot.XLabel("step", size: 12);
        plot.YLabel(panel.YLabel, size: 12);
        plot.Layout.Fixed(PanelPadding);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true }; // steps are whole
        var runs = FiniteRuns(panel.Points);
        foreach (var run in runs)
        {
            var line = plot.Add.Scatter(run.Select(p => (double)p.Step).ToArray(), run.Select(p => p.Value).ToArray(), panel.Color);
            line.LineWidth = 2;
            line.MarkerSize = 4; // a lone point between gaps still shows
        }
        if (runs.Count == 0) plot.Add.Annotation("no data", Alignment.MiddleCenter);
        else plot.Axes.AutoScaleY();
        // Never a zero-width range: a one-step episode still gets an x axis.
        plot.Axes.SetLimitsX(firstStep, Math.Max(lastStep, firstStep + 1));
    }

    /// <summary>The points split at every missing or non-finite value, so the line breaks there instead of bridging it.</summary>
    private static List<List<(long Step, double Value)>> FiniteRuns(IReadOnlyList<(long Step, double? Value)> points)
    {
        var runs = new List<List<(long Step, double Value)>>();
        List<(long Step, double Value)>? current = null;
        foreach (var (step, value) in points)
        {
            if (value is not { } v || !double.IsFinite(v)) { current = null; continue; }
            if (current is null) runs.Add(current = []);
            current.Add((step, v));
        }
        return runs;
    }
}
