namespace RobotCtl.Sim;

/// <summary>
/// The sim camera's geometry: where it stands and how a world point (metres) lands on a pixel. Pixel coordinates
/// are continuous, (0, 0) the top-left corner of the top-left pixel, so pixel (i, j) has its centre at (i + 0.5, j + 0.5).
/// Camera frame: x right, y down, z forward (OpenCV's convention).
/// </summary>
/// <remarks>
/// Oblique: a pinhole camera, u = Fx * x / z + Cx, v = Fy * y / z + Cy (no distortion). TopDown: orthographic,
/// u = Fx * x + Cx, v = Fy * y + Cy with Fx = Fy in pixels per metre; as a camera.json it is an affine camera,
/// not a pinhole one (<see cref="IsOrthographic"/>).
/// </remarks>
public sealed class SimCameraModel
{
    private SimCameraModel(int width, int height, bool orthographic, double fx, double fy, double cx, double cy,
        (double X, double Y, double Z) eye, (double X, double Y, double Z) right, (double X, double Y, double Z) down, (double X, double Y, double Z) forward)
    {
        (Width, Height, IsOrthographic, Fx, Fy, Cx, Cy) = (width, height, orthographic, fx, fy, cx, cy);
        (Eye, Right, Down, Forward) = (eye, right, down, forward);
    }

    public int Width { get; }
    public int Height { get; }
    public bool IsOrthographic { get; }
    public double Fx { get; }
    public double Fy { get; }
    public double Cx { get; }
    public double Cy { get; }

    /// <summary>Camera position in the world (for TopDown: above the table, only its height orders depth).</summary>
    public (double X, double Y, double Z) Eye { get; }

    /// <summary>The camera's x, y and z axes in world coordinates (rows of the world-to-camera rotation).</summary>
    public (double X, double Y, double Z) Right { get; }
    public (double X, double Y, double Z) Down { get; }
    public (double X, double Y, double Z) Forward { get; }

    public static SimCameraModel Create(SimSceneOptions scene, SimRenderOptions render)
    {
        ArgumentNullException.ThrowIfNull(scene);
        ArgumentNullException.ThrowIfNull(render);
        scene.Validate();
        render.Validate();
        double midX = (scene.XMin + scene.XMax) / 2, midY = (scene.YMin + scene.YMax) / 2;
        int w = render.Width, h = render.Height;
        if (render.Projection == SimProjection.TopDown)
        {
            // Fit the table and its walls, plus a thin rim of floor, into the image.
            var rim = render.WallThickness + 0.01;
            var scale = Math.Min(w / (scene.XMax - scene.XMin + 2 * rim), h / (scene.YMax - scene.YMin + 2 * rim));
            return new SimCameraModel(w, h, true, scale, scale, w / 2.0, h / 2.0,
                (midX, midY, scene.ZMax + 1), (1, 0, 0), (0, -1, 0), (0, 0, -1));
        }
        var elevation = render.ElevationDegrees * Math.PI / 180;
        var (sin, cos) = Math.SinCos(elevation);
        var f = h / 2.0 / Math.Tan(render.FieldOfViewDegrees * Math.PI / 360);
        // In front of the table (-y side), looking at the middle of the lower half of the workspace (so a raised
        // effector stays in view); x stays the image's right.
        var targetZ = (scene.ZMin + scene.ZMax) / 4;
        return new SimCameraModel(w, h, false, f, f, w / 2.0, h / 2.0,
            (midX, midY - render.Distance * cos, targetZ + render.Distance * sin), (1, 0, 0), (0, -sin, -cos), (0, cos, -sin));
    }

    /// <summary>Projects a world point; false when it is not in front of the camera. Depth is along the optical axis, metres.</summary>
    public bool Project(double x, double y, double z, out double u, out double v, out double depth)
    {
        double dx = x - Eye.X, dy = y - Eye.Y, dz = z - Eye.Z;
        var xc = Right.X * dx + Right.Y * dy + Right.Z * dz;
        var yc = Down.X * dx + Down.Y * dy + Down.Z * dz;
        depth = Forward.X * dx + Forward.Y * dy + Forward.Z * dz;
        if (IsOrthographic)
        {
            u = Fx * xc + Cx;
            v = Fy * yc + Cy;
            return depth > 0;
        }
        if (!(depth > 1e-6))
        {
            u = v = double.NaN;
            return false;
        }
        u = Fx * xc / depth + Cx;
        v = Fy * yc / depth + Cy;
        return true;
    }

    /// <summary>Where the ray through image point (u, v) meets the plane z = <paramref name="planeZ"/>; false if it never does.</summary>
    public bool Unproject(double u, double v, double planeZ, out double x, out double y)
    {
        double ox, oy, oz, rx, ry, rz;
        if (IsOrthographic)
        {
            double xc = (u - Cx) / Fx, yc = (v - Cy) / Fy;
            (ox, oy, oz) = (Eye.X + Right.X * xc + Down.X * yc, Eye.Y + Right.Y * xc + Down.Y * yc, Eye.Z + Right.Z * xc + Down.Z * yc);
            (rx, ry, rz) = Forward;
        }
        else
        {
            double xc = (u - Cx) / Fx, yc = (v - Cy) / Fy;
            (ox, oy, oz) = Eye;
            rx = Right.X * xc + Down.X * yc + Forward.X;
            ry = Right.Y * xc + Down.Y * yc + Forward.Y;
            rz = Right.Z * xc + Down.Z * yc + Forward.Z;
        }
        var t = rz == 0 ? double.NaN : (planeZ - oz) / rz;
        if (!(t > 0))
        {
            x = y = double.NaN;
            return false;
        }
        x = ox + rx * t;
        y = oy + ry * t;
        return true;
    }
}
