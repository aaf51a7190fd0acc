using RobotCtl.Core.Vision;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Dashboard.Tests;

/// <summary>The summary PNG's drawing on its own (no recorded run): empty panels and gaps in a series.</summary>
public class SummaryPlotTests
{
    [Fact]
    public void A_summary_panel_without_data_and_one_with_gaps_still_draw()
    {
        using var dir = new TempDir();
        var path = dir.File("gaps.png");
        var orange = new ScottPlot.Color(200, 120, 40);
        SummaryPlot.SavePng(path,
        [
            new("nothing recorded", "ms", [], new ScottPlot.Color(40, 160, 220)),
            new("gaps", "mean squared", [(3, 1.0), (4, null), (5, double.NaN), (6, 2.0), (7, 3.0)], orange),
        ]);
        var image = ImageIo.Load(path);
        Assert.Equal((SummaryPlot.Width, SummaryPlot.Height), (image.Width, image.Height));
        Assert.Equal(0, PixelsOfColour(image, new ScottPlot.Color(40, 160, 220), 0, image.Height));
        Assert.True(PixelsOfColour(image, orange, image.Height / 2, image.Height) > 20, "the finite points are not drawn");
    }

    /// <summary>Pixels of exactly <paramref name="colour"/> in rows [fromRow, toRow) of a BGR frame.</summary>
    internal static int PixelsOfColour(Frame image, ScottPlot.Color colour, int fromRow, int toRow)
    {
        var count = 0;
        for (var i = fromRow * image.Width * 3; i < toRow * image.Width * 3; i += 3)
            if (image.Pixels[i] == colour.B && image.Pixels[i + 1] == colour.G && image.Pixels[i + 2] == colour.R) count++;
        return count;
    }
}
