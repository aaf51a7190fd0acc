using RobotCtl.Core.Vision;
using RobotCtl.Vision.Imaging;

namespace RobotCtl.Vision.Cameras;

/// <summary>Frames from the still images in a directory, in ordinal file-name order (name them frame_0001.png, ...).</summary>
internal sealed class ImageDirectoryGrabber(CameraSource source, CameraRequest request) : IFrameGrabber
{
    private string[] _files = [];
    private int _next;

    public string Description { get; private set; } = source.ToString();
    public bool IsRecording => true;
    public double FrameRate => request.Fps ?? CameraRequest.DefaultDirectoryFps;

    public void Open()
    {
        if (!Directory.Exists(source.Location))
            throw new CameraException($"camera {source}: directory '{source.Location}' does not exist");
        _files = ImageIo.ListImages(source.Location);
        if (_files.Length == 0)
            throw new CameraException($"camera {source}: no image files ({string.Join(", ", ImageIo.FileExtensions)}) in '{source.Location}'");
        _next = 0;
        Description = $"{source} {_files.Length} images@{FrameRate:0.##}";
    }

    public GrabResult Grab(Frame destination, out string? error)
    {
        error = null;
        if (_next >= _files.Length) return GrabResult.EndOfStream;
        var file = _files[_next++];
        try
        {
            ImageIo.DecodeInto(File.ReadAllBytes(file), destination, file, request.ImageLoad);
            return GrabResult.Frame;
        }
        catch (Exception e) when (e is ImageLoadException or IOException or UnauthorizedAccessException)
        {
            error = e.Message;
            return GrabResult.Failed;
        }
    }

    public void Close() => _files = [];

    public void Dispose() => Close();
}
