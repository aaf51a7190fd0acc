using RobotCtl.Core.Vision;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Vision.Tests;

public class ImageIoDeviceTests
{
    [Fact]
    public void Saving_to_a_device_writes_into_it_and_leaves_the_device_in_place()
    {
        if (!OperatingSystem.IsLinux()) return;
        var frame = new Frame(8, 8);
        ImageIo.SavePng("/dev/null", frame);
        // Still the character device, not a regular file that replaced it.
        Assert.Equal(0, new FileInfo("/dev/null").Length);
        Assert.Empty(Directory.GetFiles("/dev", ".null.*"));
    }
}
